"""``python -m course grades ...``"""

import sys

from course.cli import main

sys.exit(main())
