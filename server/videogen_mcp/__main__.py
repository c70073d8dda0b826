from videogen_mcp.cli import main

main()
