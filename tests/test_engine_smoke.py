from bot import events as ev
from bot.engine import Engine
from bot.messages import Question, Recommendation


async def test_walkthrough(engine: Engine, alice: ev.UserRef) -> None:
    out = await engine.handle(ev.Start(alice))
    print(out)
    for value in ["1", "yes", "1,2", "2", "skip"]:
        out = await engine.handle(ev.Answer(alice, value))
        print(out)
    assert isinstance(out[1], Recommendation)
    assert isinstance((await engine.handle(ev.Back(alice)))[0], Question)
