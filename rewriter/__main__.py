from rewriter.cli import main

raise SystemExit(main())
