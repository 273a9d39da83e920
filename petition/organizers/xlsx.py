"""The signatory spreadsheet: the CSV's columns and cells in an XLSX workbook.

The workbook is write-only, so openpyxl keeps rows in a temporary file rather than in memory,
and the finished file is written to a file object that the response then streams.
"""

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from .export import COLUMNS, iter_rows, neutralize


def spreadsheet_cell(value) -> str:
    """A cell as the CSV has it, without the control characters that XLSX cannot hold; neutralized
    again, since removing them can bare a formula (``"\\x01=1+1"``)."""
    return neutralize(ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value)))


def write_xlsx(petition, target, **filters) -> int:
    """Write the signatures of ``petition`` matching ``filters`` to the binary file ``target``;
    return how many rows were written.

    Every cell is text, exactly the CSV's: a text cell never runs as a formula, and the
    neutralizing apostrophe keeps it that way when someone edits the cell and saves.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("signatures")
    sheet.append(COLUMNS)
    rows = 0
    for cells in iter_rows(petition, **filters):
        sheet.append([spreadsheet_cell(cell) for cell in cells])
        rows += 1
    workbook.save(target)
    return rows
