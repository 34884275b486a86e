from rewriter.cli.main import main

raise SystemExit(main())
