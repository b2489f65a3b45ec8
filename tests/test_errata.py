"""Every erratum of the spec is an executable claim: the printed form fails, the corrected form holds."""

import pytest

from nerva_edu.errata import ERRATA


def test_errata_ids_are_unique():
    assert len({e.id for e in ERRATA}) == len(ERRATA)


@pytest.mark.parametrize("erratum", ERRATA, ids=lambda e: e.id)
def test_erratum_evidence_holds(erratum):
    report = erratum.evidence()
    assert isinstance(report, str) and report
