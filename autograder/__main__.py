"""Entry point: python -m autograder."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["check"]:  # the student's check: a fast start, nothing of grading
        from .student.check_warm import attempt, start_server

        code, start = attempt(sys.argv[2:])  # this user's warm check server, when it is up
        if code is None:
            from .student.check import main as check_main

            code = check_main(sys.argv[2:])
            if start:
                start_server()
        sys.exit(code)
    from .cli import main

    sys.exit(main())
