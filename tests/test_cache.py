import multiprocessing as mp

import torch

from winclip_lit.cache import FeatureCache, tensor_key


def test_cache_hits_return_the_encoded_features(tmp_path, winclip):
    images = torch.randn(3, 3, 64, 64)
    cache = FeatureCache(tmp_path, winclip.feature_fingerprint())
    first = cache.encode(winclip, images[:2], ["a.png", "b.png"])
    assert (cache.hits, cache.misses) == (0, 2)
    second = cache.encode(winclip, images, ["a.png", "b.png", "c.png"])
    assert (cache.hits, cache.misses) == (2, 3)
    direct = winclip.encode(images)
    for got in (first, second[:2]):
        assert torch.equal(got.image, direct.image[:2])
        assert all(torch.equal(a, b[:2]) for a, b in zip(got.windows, direct.windows, strict=True))
        assert torch.equal(got.patches, direct.patches[:2])


def test_other_fingerprint_or_changed_image_misses(tmp_path, winclip):
    images = torch.randn(2, 3, 64, 64)
    FeatureCache(tmp_path, winclip.feature_fingerprint()).encode(winclip, images)
    other = FeatureCache(tmp_path, "another-backbone")
    other.encode(winclip, images)
    assert other.misses == 2
    changed = images.clone()
    changed[0, 0, 0, 0] += 1e-3
    assert tensor_key(changed[0]) != tensor_key(images[0])
    assert tensor_key(changed[1]) == tensor_key(images[1])


def test_damaged_entry_is_recomputed(tmp_path, winclip):
    images = torch.randn(1, 3, 64, 64)
    cache = FeatureCache(tmp_path, winclip.feature_fingerprint())
    cache.encode(winclip, images)
    cache.path(tensor_key(images[0])).write_bytes(b"truncated")
    again = cache.encode(winclip, images)
    assert cache.misses == 2
    assert torch.equal(again.image, winclip.encode(images).image)


def _writer(root: str, fingerprint: str, seed: int) -> None:
    torch.manual_seed(0)
    images = torch.randn(4, 3, 64, 64)
    features = [t * (1 + seed * 0) for t in (images.mean((1, 2, 3)),)]  # same content in every writer
    cache = FeatureCache(root, fingerprint)
    from winclip_lit.model.features import ImageFeatures

    for _ in range(20):
        for i in range(4):
            feats = ImageFeatures(features[0][i : i + 1, None], (torch.ones(1, 2, 1),), torch.ones(1, 3, 1))
            cache.save(tensor_key(images[i]), feats)


def test_concurrent_writers_leave_only_complete_entries(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), "fp", s)) for s in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = FeatureCache(tmp_path, "fp")
    files = list(cache.root.rglob("*"))
    assert not [f for f in files if f.suffix == ".tmp"]
    assert len([f for f in files if f.suffix == ".pt"]) == 4
    assert all(cache.load(f.stem) is not None for f in files if f.suffix == ".pt")
