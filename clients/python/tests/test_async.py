"""The asyncio client against a real daemon."""

import asyncio

import pytest

from streamtag_client import AsyncClient, End, EvictedError, Tag


def test_async_streams_tags_and_control(daemon):
    async def main():
        async with AsyncClient(daemon.input, daemon.output, daemon.control) as client:
            async def run(name, words):
                stream = client.stream(name)
                await stream.send(words[:2])
                await stream.end(words[2:])
                return [t async for t in stream]

            a, b = await asyncio.gather(run("a", ["The", "cat", "sat", "."]), run("b", ["A", "dog"]))
            status = await client.status()
            kept = client.stream("kept", partial=True)
            await kept.send(["hello", "world"])
            items = await kept.collect(timeout=20)
            await client.drop("kept")
            with pytest.raises(EvictedError):
                async for _ in kept.tags(timeout=20):
                    pass
            return a, b, status, items

    a, b, status, items = asyncio.run(main())
    assert [(t.i, t.token) for t in a] == [(0, "The"), (1, "cat"), (2, "sat"), (3, ".")]
    assert [t.token for t in b] == ["A", "dog"] and all(isinstance(t, Tag) for t in a + b)
    assert a[0].model == status["model"]
    assert isinstance(items, list)


def test_async_items_end_with_end(daemon):
    async def main():
        async with AsyncClient(daemon.input, daemon.output, daemon.control) as client:
            stream = client.stream("items")
            await stream.end(["one", "two", "three"])
            return [x async for x in stream.items(timeout=20)]

    items = asyncio.run(main())
    assert [x.i for x in items if isinstance(x, Tag)] == [0, 1, 2] and items[-1] == End(3)
