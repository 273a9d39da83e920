from .conftest import sign, signatures, valid_fields


def test_signing_stores_one_counted_signature(app, client, petition):
    response = sign(client, petition.slug, **valid_fields())
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    rows = signatures(app)
    assert [(row.name, row.status) for row in rows] == [("Ana Quispe", "confirmed")]
