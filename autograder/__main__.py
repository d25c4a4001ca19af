"""Entry point: python -m autograder."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["check"]:  # the student's check: a fast start, nothing of grading
        from .check import main as check_main

        sys.exit(check_main(sys.argv[2:]))
    from .cli import main

    sys.exit(main())
