"""What a PDF/A-3 file says of itself, read with pikepdf and poppler: its identification
(XMP ``pdfaid``), output intent with its ICC profile, title, language, embedded fonts."""

from __future__ import annotations

from io import BytesIO

import pikepdf

from tests.pdftools import poppler


def assert_pdfa_3(pdf: bytes, title: str, conformance: str = "U") -> None:
    """``pdf`` identifies itself as PDF/A-3 (``conformance``), titled ``title``, in French,
    with an sRGB output intent and every font embedded."""
    with pikepdf.open(BytesIO(pdf)) as document:
        root = document.Root
        assert str(root.get("/Lang")) == "fr"
        assert str(document.docinfo.get("/Title")) == title
        assert root.get("/ViewerPreferences", {}).get("/DisplayDocTitle") is True

        metadata = root.Metadata
        assert metadata.get("/Type") == "/Metadata" and metadata.get("/Subtype") == "/XML"
        with document.open_metadata() as xmp:
            assert xmp.get("pdfaid:part") == "3"
            assert xmp.get("pdfaid:conformance") == conformance
            assert xmp.get("dc:title") == title

        [intent] = list(root.OutputIntents)
        assert intent.S == "/GTS_PDFA1"
        assert str(intent.OutputConditionIdentifier)
        profile = intent.DestOutputProfile
        assert int(profile.N) == 3  # RGB
        icc = profile.read_bytes()
        assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "  # an ICC profile of an RGB device

        assert "/ID" in document.trailer and not document.is_encrypted
    fonts = poppler("pdffonts", pdf).splitlines()[2:]
    assert fonts
    for line in fonts:  # embedded, with a Unicode map
        assert line.split()[-5:-2] == ["yes", "yes", "yes"], line
