"""The model: behaviour of the shipped model, and the estimator contract."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from triage.artefact import read_predictor, write_predictor
from triage.features import ComplaintFeatures
from triage.model import TriageModel
from triage.taxonomy import HEADS

# -- minimum functionality: a handler would route these without thinking ------------------------------

@pytest.mark.parametrize("text, category, opd", [
    ("Jalan poros desa di Loa Kulu rusak parah, berlubang dan becek kalau hujan. Mohon segera diperbaiki.",
     "pekerjaan_umum", "dpupr"),
    ("Sudah 3 bulan KTP elektronik saya belum jadi, katanya blanko habis terus.", "adminduk", "disdukcapil"),
    ("air pdam di rumah mati sdh 4 hari, tagihan tetap jalan", "air_minum", "pdam"),
    ("lampu jalan di jl. panjaitan mati semua, gelap rawan begal", "perhubungan", "dishub"),
    ("sampah di TPS pasar menumpuk seminggu tidak diangkut, bau sekali", "lingkungan_hidup", "dlhk"),
])
def test_routes_plain_complaints(shipped, text, category, opd):
    suggestion = shipped.suggest(text)
    assert (suggestion.category.code, suggestion.opd.code) == (category, opd)


def test_names_pungli_as_a_request_for_money(shipped):
    text = "Mau urus akta kelahiran anak di capil disuruh bayar 200 ribu sama petugasnya biar cepat, tanpa kuitansi"
    assert shipped.suggest(text).maladministration.code == "permintaan_imbalan"


# -- invariance: what must not move the routing -----------------------------------------------------------

@pytest.mark.parametrize("original, variant", [
    ("jalan di desa kami rusak parah mohon diperbaiki", "jalna di desa kami rusak parah mohon diperbaiki"),
    ("jalan di Sebulu rusak parah mohon diperbaiki", "jalan di Muara Badak rusak parah mohon diperbaiki"),
    ("KTP saya hilang, mau urus yang baru di Tenggarong", "KTP saya hilang, mau urus yang baru di Samboja"),
    ("Anak saya ditolak masuk SD negeri karena zonasi", "KUKAR ADUAN Anak saya ditolak masuk SD negeri karena zonasi"),
])
def test_typos_places_and_sms_prefix_do_not_change_the_opd(shipped, original, variant):
    assert shipped.suggest(original).opd.code == shipped.suggest(variant).opd.code


# -- direction: what must move it, and which way ----------------------------------------------------------

def _p(suggester, text, head, code):
    proba = suggester.model.predict_proba([text])[head][0]
    return proba[list(suggester.model.classes_[head]).index(code)]


def test_adding_pungli_moves_toward_permintaan_imbalan(shipped):
    base = "Pengurusan izin usaha saya di kantor perizinan lama sekali prosesnya"
    assert _p(shipped, base + ", ada pungli diminta uang pelicin 500 ribu", "maladministration", "permintaan_imbalan") \
        > _p(shipped, base, "maladministration", "permintaan_imbalan") + 0.2


def test_adding_an_old_unanswered_report_moves_toward_penundaan(shipped):
    base = "Lampu jalan di gang kami mati"
    delayed = base + ", sudah dilaporkan 3 bulan lalu tapi tidak ditindaklanjuti sampai sekarang"
    assert _p(shipped, delayed, "maladministration", "penundaan_berlarut") \
        > _p(shipped, base, "maladministration", "penundaan_berlarut") + 0.2


# -- suggestions carry what a handler needs ---------------------------------------------------------------

def test_suggestion_has_top3_confidences_review_flag_and_explanation(shipped, taxonomy):
    suggestion = shipped.suggest("jalan rusak berlubang di depan SDN 005 Tenggarong, tolong diperbaiki")
    for head in HEADS:
        h = suggestion.head(head)
        assert len(h.alternatives) == 3
        assert h.alternatives[0].code == h.code and h.name == taxonomy.label(head, h.code).name
        confidences = [a.confidence for a in h.alternatives]
        assert confidences == sorted(confidences, reverse=True) and 0 < sum(confidences) <= 1.0001
        assert h.needs_review == (h.confidence < shipped.model.thresholds_[head])
    assert "jalan" in [t.term for t in suggestion.explanation["opd"]]
    assert suggestion.to_dict()["needs_review"] == suggestion.needs_review


def test_explanations_name_words_of_the_text_never_the_masks_standing_for_numbers_or_contacts(shipped):
    suggestion = shipped.suggest("mau urus akta disuruh bayar 200rb biar cepat, hubungi 081234567890 atau "
                                 "petugas@contoh.go.id, sudah 3 kali datang 2 minggu")

    terms = [t.term for terms in suggestion.explanation.values() for t in terms]

    assert terms and not [t for t in terms if set(t.split()) & {"xangka", "xtelepon", "xemail", "xnik", "xurl"}]
    assert all(len(ts) >= 1 for ts in suggestion.explanation.values())


def test_vague_texts_are_flagged_for_review(shipped):
    assert shipped.suggest("tolong dibantu pak").needs_review


def test_thresholds_were_chosen_for_each_head(shipped):
    assert set(shipped.model.thresholds_) == set(HEADS)
    assert all(0 < t <= 1.01 for t in shipped.model.thresholds_.values())


# -- estimator contract ----------------------------------------------------------------------------------

def test_model_is_a_scikit_learn_estimator(tiny_model):
    params = clone(TriageModel(C=0.3)).get_params()
    assert params["C"] == 0.3 and params["cv"] == 3
    assert TriageModel().set_params(C=2.0).C == 2.0
    assert set(tiny_model.classes_) == set(HEADS)


def test_features_compose_with_pipeline_and_grid_search(small_corpus):
    texts, y = small_corpus.texts, small_corpus.labels["opd"]
    pipeline = Pipeline([("features", ComplaintFeatures()), ("svc", LinearSVC())])
    search = GridSearchCV(pipeline, {"features__char_weight": [0.5, 1.0]}, cv=2).fit(texts, y)
    assert search.best_params_["features__char_weight"] in (0.5, 1.0)
    assert search.predict(texts[:3]).shape == (3,)


def test_fit_refuses_codes_too_rare_to_learn(learnable_corpus):
    y = learnable_corpus.y()
    y[0, 1] = "brand_new_opd"
    with pytest.raises(ValueError, match=r"Head 'opd'.*brand_new_opd \(1\)"):
        TriageModel().fit(learnable_corpus.texts, y)


# -- quality: the shipped model meets the targets on the held-out split -----------------------------------

CATEGORY_MACRO_F1 = 0.80
"""Over the national codes (69: functions, destinations outside the pemda, outcomes), held out."""
KUKAR_OPD_ACCURACY = 0.88
"""Issue 3's target for Kukar's OPD on its seed test split."""

def test_shipped_model_meets_quality_targets_on_held_out_data(shipped, seed_test, test_set):
    from triage.evaluate import evaluate

    report = evaluate(shipped.model, seed_test)  # every held-out complaint: Kukar's and the national corpus's
    assert report["category"]["macro_f1"] >= CATEGORY_MACRO_F1
    assert report["maladministration"]["macro_f1"] >= 0.70
    assert all(report[h]["ece"] <= 0.08 for h in HEADS)
    kukar = evaluate(shipped.model, test_set)  # Kukar's own routing stays where it was before the national layer
    assert kukar["opd"]["accuracy"] >= KUKAR_OPD_ACCURACY and kukar["opd"]["top3_accuracy"] >= 0.97
    assert kukar["opd"]["accuracy_not_flagged"] >= 0.97 and kukar["opd"]["coverage"] >= 0.70


def test_heads_scored_together_give_scikit_learns_probabilities_to_the_last_bit():
    texts = [f"{topic} di desa {i}" for i, topic in enumerate(["jalan rusak parah", "lampu jalan mati", "ktp belum jadi",
                                                                "puskesmas tutup", "guru sering bolos", "pungli di kantor"] * 6)]
    y = np.array([[c, o, m] for c, o, m in [("infrastruktur", "dpupr", "penundaan_berlarut"),
                                            ("infrastruktur", "dishub", "tidak_memberikan_pelayanan"),
                                            ("kependudukan", "disdukcapil", "penundaan_berlarut"),
                                            ("kesehatan", "dinkes", "tidak_memberikan_pelayanan"),
                                            ("pendidikan", "disdik", "tidak_patut"),
                                            ("pengaduan_umum", "inspektorat", "permintaan_imbalan")] * 6])
    binary = y.copy()
    binary[:, 2] = np.where(np.arange(len(y)) % 2, "tidak_patut", "penundaan_berlarut")  # scored on its own
    new = ["jalan rusak dekat puskesmas", "ktp dan lampu", "pungli guru"]
    for labels in (y, binary):
        model = TriageModel(features=ComplaintFeatures(min_df=1), cv=2).fit(texts, labels)
        X = model.features_.transform(new)
        together = model.proba_from_features(X)
        for head in HEADS:
            assert np.array_equal(together[head], model.heads_[head].predict_proba(X))
        assert "_predicting" not in pickle.loads(pickle.dumps(model)).__dict__  # made again after loading
        saved = read_predictor(write_predictor(model.predictor()))  # as the registry saves and loads it
        for head, proba in saved.predict_proba(new).items():
            assert np.array_equal(proba, together[head])


def test_term_weights_of_a_code_the_model_does_not_know_say_which_codes_it_knows(tiny_model):
    with pytest.raises(KeyError, match="'dinkes_xyz' is not a code the model predicts for head 'opd'.*dpupr"):
        tiny_model.term_weights("opd", "dinkes_xyz")
