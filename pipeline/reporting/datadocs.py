"""Data Docs: GX's HTML pages of a run's results, made to load only local files.

GX renders the results the quality stage stored (report text in them is escaped there,
``pipeline.quality.gx``); this module asks GX to build the pages of one run, copies the
vendored assets (``pipeline/resources/datadocs/``, see VENDORED.md) beside them and
points every page at those.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..quality import Suites, gx
from ..schema import TABLES

_DATADOCS_ASSETS = Path(__file__).resolve().parent.parent / "resources" / "datadocs"

# CDN URL (prefix) in GX's pages → path under static/vendor/ (the files in resources/datadocs/)
_CDN = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fortawesome-fontawesome-free/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
}
_DROP_TAGS = re.compile(r'<(script|link)[^>]*(?:vega|bootstrap-dark)[^>]*>(?:\s*</script>)?')
_SRI = re.compile(r'\s+integrity="[^"]*"(?:\s+crossorigin="anonymous")?|\s+crossorigin="anonymous"')
_LOGO = re.compile(r'https://great-expectations-web-assets\.s3\.[^"\']*/(?:logo-long|full_logo_dark)\.png(?:\?d=[^"\']*)?')


def build_docs(result_ids: Sequence, *, out_dir: Path | str, suites: Suites) -> Path:
    """Render the pages of these stored results (and of the suites) into
    ``<out>/validation/docs`` and make every page we rendered load only local files."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    vdir = Path(out_dir).resolve() / "validation"
    state = gx.context(suites, vdir)
    result_ids = list(result_ids)
    ids = result_ids + [ExpectationSuiteIdentifier(name=n) for n in TABLES]
    state.ctx.build_data_docs(site_names=["local"], resource_identifiers=ids)
    site = vdir / "docs"
    _vendor_assets(site / "static" / "vendor")
    pages = [site / "index.html"] + [site / "expectations" / f"{n}.html" for n in TABLES]
    for rid in result_ids:
        d = site / "validations" / rid.expectation_suite_identifier.name / rid.run_id.run_name
        pages += list(d.rglob("*.html")) if d.exists() else []
    for page in pages:
        if page.exists():
            _offline(page, site)
    return site / "index.html"


def _vendor_assets(dest: Path) -> None:
    stamp = dest / ".copied-from"
    source_id = f"{_DATADOCS_ASSETS} {sum(1 for _ in _DATADOCS_ASSETS.rglob('*'))}"
    if stamp.exists() and stamp.read_text() == source_id:
        return
    shutil.copytree(_DATADOCS_ASSETS, dest, dirs_exist_ok=True)
    stamp.write_text(source_id)


def _offline(page: Path, site: Path) -> None:
    text = page.read_text(encoding="utf-8")
    vendor = os.path.relpath(site / "static" / "vendor", page.parent)
    for url, local in _CDN.items():
        text = text.replace(url, f"{vendor}/{local}")
    text = _SRI.sub("", text)
    text = _DROP_TAGS.sub("", text)
    text = _LOGO.sub(os.path.relpath(site / "static" / "images" / "logo-long.png", page.parent), text)
    # plain <a href="https://…"> links (GX's site, its newsletter) stay: clicking is the
    # reviewer's choice; nothing is *loaded* from the network (see external_resources)
    page.write_text(text, encoding="utf-8")


def external_resources(page: Path) -> list[str]:
    """URLs a page would load from the network (stylesheets, scripts, images, fonts)."""
    text = page.read_text(encoding="utf-8")
    loads = re.findall(r'<(?:script|img|iframe)[^>]*\bsrc="(https?://[^"]+)"', text)
    loads += re.findall(r'<link[^>]*\bhref="(https?://[^"]+)"', text)
    loads += re.findall(r'url\(\s*["\']?(https?://[^)"\']+)', text)
    loads += re.findall(r'@import\s+["\'](https?://[^"\']+)', text)
    return sorted(set(loads))
