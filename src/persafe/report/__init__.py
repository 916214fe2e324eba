"""HTML and markdown reports with plots."""

from persafe.report.html import build_report
from persafe.report.tables import comparison_rows, markdown_table, rich_table

__all__ = ["build_report", "comparison_rows", "markdown_table", "rich_table"]
