"""The annual report as HTML, PDF (WeasyPrint) and XLSX (one sheet per table)."""

import io

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from salama.analytics import report as r


def html(report: r.Report, request=None, *, standalone: bool = False) -> str:
    """The report page; ``standalone``: the printable document (for the PDF), no site chrome."""
    template = "analytics/report_print.html" if standalone else "analytics/report.html"
    return render_to_string(
        template, {"report": report, "awsd_labels": r.AWSD_LABELS}, request=request
    )


def pdf(report: r.Report, request=None, *, compress: bool = True) -> bytes:
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    document = html(report, request, standalone=True)
    base = request.build_absolute_uri("/") if request is not None else None
    stylesheet = finders.find("salama/analytics-print.css")
    return HTML(string=document, base_url=base).write_pdf(
        stylesheets=[CSS(filename=stylesheet)], uncompressed_pdf=not compress
    )


def xlsx(report: r.Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in report.tables:
        sheet = book.create_sheet(f"Table {table.key}")
        sheet.append([f"{table.key}. {table.title}"])
        sheet["A1"].font = bold
        sheet.append([str(table.note)])
        sheet.append([])
        sheet.append([str(table.label_heading), *[str(col) for col in table.columns]])
        for cell in sheet[4]:
            cell.font = bold
        for row in table.rows:
            sheet.append([str(row.label), *[cell.value for cell in row.cells]])
            if row.total:
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
        sheet.column_dimensions["A"].width = 48
    sheet = book.create_sheet("AWSD")
    sheet.append([_("AWSD-style yearly figures (violence; persons unless stated)")])
    sheet["A1"].font = bold
    sheet.append([])
    sheet.append(["", *[str(y) for y in report.years]])
    for key, label in r.AWSD_LABELS:
        sheet.append([str(label), *[figures[key] for figures in report.awsd]])
    sheet.column_dimensions["A"].width = 40
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
