from sessionlens.cli import main

raise SystemExit(main())
