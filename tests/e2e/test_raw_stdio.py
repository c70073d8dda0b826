"""The stdio wire itself, below any SDK client: lines a JavaScript host may really send still get an answer."""

from __future__ import annotations

import json
import select
import subprocess
import time

from tests.conftest import SERVER_COMMAND, server_env

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}


class RawServer:
    def __init__(self, env: dict) -> None:
        # Unbuffered: select() then readline() on a buffered pipe misses a second line read ahead in one chunk.
        self.proc = subprocess.Popen([SERVER_COMMAND], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0, stderr=subprocess.DEVNULL)

    def send(self, line: str) -> None:
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def reply(self, timeout: float = 20) -> dict | None:
        """The next message, or None when the server says nothing for `timeout` seconds (a hung call)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                message = json.loads(self.proc.stdout.readline())
                if "id" in message:
                    return message
        return None

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=20)


def test_a_lone_surrogate_from_a_cut_emoji_still_gets_an_answer(fake, tmp_path, png):
    server = RawServer(server_env(fake, tmp_path / "data"))
    server.send(json.dumps(INITIALIZE))
    assert server.reply()["id"] == 1
    server.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    # JSON.stringify("a cat \ud83d") in a browser: half an emoji, as an escape
    server.send('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"generate_video","arguments":'
                f'{{"image":{json.dumps(str(png))},"prompt":"a cat \\ud83d","wait_seconds":0}}}}}}')
    made = server.reply()
    server.send('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_task",'
                '"arguments":{"task_id":"abc\\udc00"}}}')
    unknown = server.reply()
    assert server.close() == 0  # and stdin closing ends the server cleanly
    assert made is not None and unknown is not None, "the server never answered"
    task = made["result"]["structuredContent"]
    assert task["prompt"] == "a cat \ufffd" and not made["result"].get("isError")
    assert unknown["result"]["isError"] and "no task has id" in unknown["result"]["content"][0]["text"]
    assert len(fake.provider("wavespeed").submits()) <= 1
