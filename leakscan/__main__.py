from leakscan.cli.fast import main

if __name__ == "__main__":  # worker processes of scan-many import this module too: run nothing
    main()
