"""What the demo's participants write, by theme, and what the teams answer.

Wave 1's pain point is the board-pack export: slow, and timing out on large packs. It is
fixed between the waves (release 2.3), so wave 2 writes about it in other words.
"""

from __future__ import annotations

from typing import Final

EXPORT_PAIN: Final = (
    "The PDF export of the board pack times out every time.",
    "Export is painfully slow, it took ten minutes for twelve pages.",
    "Exporting the board pack timed out twice before it worked.",
    "Board pack export is so slow I went back to copying charts into slides.",
    "The export to PDF hangs and then times out on our consolidated report.",
    "Love the charts but the export is too slow to use before a board meeting.",
    "PDF export fails on large packs, we gave up and used spreadsheets.",
    "Export keeps spinning and then shows a timeout error.",
)
EXPORT_FIXED: Final = (
    "Export of the board pack now takes seconds, great.",
    "The PDF export is quick and the layout is perfect.",
    "Exported our first board pack in under a minute.",
)
CONNECT_PAIN: Final = (
    "Connecting our ERP data was confusing, the wizard lost my credentials.",
    "The data connection step asks for permissions our IT would not grant.",
    "Took three tries to connect the accounting data source.",
    "Mapping our chart of accounts during data connection was hard.",
)
DELIGHT: Final = (
    "Love the new dashboard, the board report took ten minutes instead of a day.",
    "The report builder saves us a full day every month.",
    "Great dashboards, my CFO loved the first report.",
    "Clean reports, and the variance view is exactly what we needed.",
    "Finally a report our board reads without questions.",
)
PRICING: Final = (
    "Pricing for extra seats is unclear.",
    "What will the price be after the pilot? The invoice terms are not clear.",
)
FEATURE: Final = (
    "Please add a dark mode.",
    "We would like to schedule the report by e-mail every Monday.",
    "Can we get a Google Sheets export as well?",
)
CONTACT: Final = (
    " Call me on +44 20 7946 0958 if you need details.",
    " You can reach me at dana.fischer@example.com.",
)

ANSWER_EXPORT_PLANNED: Final = (
    "Thank you: we are rebuilding the PDF export for large board packs; "
    "it ships in release 2.3 in a few weeks."
)
ANSWER_EXPORT_DONE: Final = (
    "Release 2.3 is out: the board pack now exports in seconds. Thank you for the report."
)
ANSWER_EXPORT_LATE: Final = "We are looking into the remaining export failures on very large packs."
ANSWER_CONNECT: Final = (
    "A guided ERP connection with read-only permissions is planned for next month.",
    "We fixed the credential step of the connection wizard; please try again.",
)
ANSWER_PRICING: Final = "Per-seat pricing will be on the pricing page before the pilot ends."
ANSWER_FEATURE_DECLINED: Final = "Not this quarter: we are focusing on reports and exports."
ANSWER_FEATURE_PLANNED: Final = "Scheduled e-mail delivery is on the roadmap for next quarter."
