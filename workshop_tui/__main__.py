from workshop_tui.cli import main

raise SystemExit(main())
