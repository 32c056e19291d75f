"""The CSV export opened in a real spreadsheet: LibreOffice Calc, headless, from Debian.

Each file is converted to .xlsx by ``soffice`` with formulas evaluated on import, read with a
separator a reader may pick (comma, or semicolon as much of Europe does, or tab), and the
workbook is read back with openpyxl, which tells formula cells from values.
"""

import shutil
import subprocess
from datetime import UTC, datetime

import openpyxl
import pytest

from feedback import export
from feedback.export import export_csv
from tests.factories import ExplainerFactory
from tests.feedback import csv_payloads
from tests.feedback.factories import RatingFactory
from tests.services import missing

pytestmark = [pytest.mark.spreadsheet, pytest.mark.django_db]

SEPARATORS = {",": 44, ";": 59, "\t": 9}
PAYLOADS = csv_payloads.INJECTIONS + csv_payloads.SAFE_WHEN_QUOTED


@pytest.fixture(scope="module")
def soffice(tmp_path_factory):
    """The soffice command, with a profile of its own (made once: that is the slow part), so
    that a LibreOffice the user has open cannot interfere."""
    path = shutil.which("soffice")
    if path is None:
        missing(
            "LibreOffice is not installed; install it with 'apt-get update && apt-get install "
            "-y --no-install-recommends libreoffice-calc-nogui' to run the spreadsheet test."
        )
    profile = tmp_path_factory.mktemp("libreoffice-profile")
    return [path, f"-env:UserInstallation={profile.as_uri()}"]


def open_in_libreoffice(soffice, csv_path, separator, tmp_path) -> list:
    """The cells of ``csv_path`` as LibreOffice reads it with ``separator``, formulas on."""
    # Tokens: separator, text delimiter ("), UTF-8, first line 1, no column formats, en-US,
    # quoted fields not forced to text, detect special numbers, (three export-only tokens),
    # all sheets, and the one that matters: evaluate formulas.
    options = f"{SEPARATORS[separator]},34,76,1,,1033,false,true,false,false,false,-1,true"
    out_dir = tmp_path / f"xlsx-{SEPARATORS[separator]}"
    result = subprocess.run(
        [
            *soffice,
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            f"--infilter=CSV:{options}",
            "--outdir",
            str(out_dir),
            str(csv_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    xlsx = out_dir / csv_path.with_suffix(".xlsx").name
    assert xlsx.exists(), f"soffice wrote nothing: {result.stdout} {result.stderr}"
    sheet = openpyxl.load_workbook(xlsx).active
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


def formulas(cells) -> list[str]:
    return [
        f"{cell.coordinate}: {cell.value!r}"
        for cell in cells
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))
    ]


def export_payloads(tmp_path):
    """A ratings export whose comments and headlines are the corpus, written to a file."""
    explainer = ExplainerFactory(published=True, slug="talks", headline="=HYPERLINK(1)")
    for payload in PAYLOADS:
        RatingFactory(explainer=explainer, useful=False, comment=payload)
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"".join(export_csv(kind="ratings")))
    return path


@pytest.mark.parametrize("separator", list(SEPARATORS), ids=["comma", "semicolon", "tab"])
def test_no_exported_cell_is_a_formula_in_libreoffice(soffice, separator, tmp_path):
    """Opened with a comma, semicolon or tab separator, no cell of the export is a formula."""
    cells = open_in_libreoffice(soffice, export_payloads(tmp_path), separator, tmp_path)
    assert len(cells) > len(PAYLOADS)
    assert formulas(cells) == []


def test_libreoffice_reads_the_comments_back_as_written(soffice, tmp_path):
    """With the comma separator every comment arrives whole, as the export wrote it."""
    cells = open_in_libreoffice(soffice, export_payloads(tmp_path), ",", tmp_path)
    comments = [cell.value for cell in cells if cell.column == 10 and cell.row > 1]
    # LibreOffice reads a line break inside a cell as LF, whatever the file had.
    expected = [export.neutralise(p).replace("\r\n", "\n").replace("\r", "\n") for p in PAYLOADS]
    assert [comment.replace("\r\n", "\n").replace("\r", "\n") for comment in comments] == expected


@pytest.mark.parametrize("separator", [",", ";"], ids=["comma", "semicolon"])
def test_libreoffice_would_run_the_payloads_unneutralised(
    soffice, separator, tmp_path, monkeypatch
):
    """The test can fail: without neutralising, LibreOffice turns payloads into formulas."""
    monkeypatch.setattr(export, "_use_copy", lambda: False)
    monkeypatch.setattr(export, "neutralise", lambda value: value)
    cells = open_in_libreoffice(soffice, export_payloads(tmp_path), separator, tmp_path)
    assert formulas(cells) != []


def test_libreoffice_reads_the_times_as_dates_and_times(soffice, tmp_path):
    """A spreadsheet reads the export's times as date-time values, not as text."""
    RatingFactory(created_at=datetime(2026, 11, 26, 3, 36, 59, 5, tzinfo=UTC))
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"".join(export_csv(kind="ratings")))
    cells = open_in_libreoffice(soffice, path, ",", tmp_path)
    created = next(cell for cell in cells if cell.column == 2 and cell.row == 2)
    assert created.value == datetime(2026, 11, 26, 3, 36, 59)
