"""The report's cost grows with the class, not with its square: building its data reads the
results once (a stream is enough), and rendering reads the rows a bounded number of times."""

from __future__ import annotations

import report_site as site

from autograder.report import data as report_data
from autograder.report.html import write_pages


class Counted(list):
    """A list that counts how often it is iterated."""

    passes = 0

    def __iter__(self):
        Counted.passes += 1
        return super().__iter__()


def test_the_index_reads_the_rows_a_few_times_whatever_the_class(tmp_path):
    """The index asked ``has_late`` (a pass over all rows) in every row: n squared."""
    for n in (10, 200):
        results = (site.result(f"s{i:03d}", "graded", site.tests_for(i % 2 == 0)) for i in range(n))
        data = report_data.build("hw1", site.QUESTIONS, results, [])  # one pass over a generator
        assert [row.student_id for row in data.rows] == [f"s{i:03d}" for i in range(n)]
        data.rows = Counted(data.rows)
        Counted.passes = 0
        write_pages(data, tmp_path / str(n), {"overall": "overall.png"}, {}, tmp_path / "db")
        assert Counted.passes < 10, n
