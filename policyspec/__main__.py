from policyspec.cli import main

main()
