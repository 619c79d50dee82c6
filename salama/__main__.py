from salama.cli import main

main()
