"""Build gold.jsonl (beside this file) from hand annotations (article, start, end, voice,
speaker, targets as mention texts); mention offsets = the occurrence of that text nearest
the span (inside it first, then before it)."""
import json
from pathlib import Path

from propscope.corpus import load_split
from propscope.targets import TARGETING

A = [
 ("737457870", 1024, 1054, "quoted", "Obama spokeswoman", [("Farrakhan", "person")]),
 ("737457870", 1093, 1129, "author", None, [("Obama", "person")]),
 ("737457870", 1410, 1478, "author", None, [("Danny Davis", "person")]),
 ("737457870", 1606, 1713, "author", None, None),
 ("737457870", 1730, 1747, "quoted", None, [("Clyburn", "person")]),
 ("737457870", 2850, 2879, "author", None, [("Democrats", "group")]),
 ("737457870", 2928, 3027, "author", None, [("the left", "group")]),
 ("999000147", 219, 233, "author", None, None),
 ("999000147", 701, 709, "author", None, [("Kamala Harris", "person"),
                                           ("Elizabeth Warren", "person")]),
 ("999000147", 2559, 2678, "author", None, [("Senate", "organisation")]),
 ("999000147", 2681, 2918, "quoted", "Kendra Arnold", None),
 ("999000147", 3231, 3323, "author", None, None),
 ("999000147", 3241, 3324, "author", None, [("Warren", "person")]),
 ("999000133", 145, 162, "quoted", "Don Lemon", []),
 ("999000133", 175, 229, "quoted", "Don Lemon", None),
 ("999000133", 485, 498, "author", None, [("Don Lemon", "person")]),
 ("999000133", 526, 549, "author", None, [("Don Lemon", "person")]),
 ("999000133", 729, 738, "quoted", None, None),
 ("999000133", 1834, 1922, "author", None, [("CNN", "organisation")]),
 ("707566605", 21, 77, "author", None, None),
 ("707566605", 154, 165, "author", None, []),
 ("707566605", 220, 265, "attributed", "Officials", None),
 ("707566605", 505, 541, "attributed", "experts", None),
 ("707566605", 546, 586, "attributed", "experts", []),
 ("707566605", 752, 857, "attributed", "Daily Mail", None),
 ("707566605", 1222, 1253, "quoted", None, None),
 ("707566605", 1260, 1271, "author", None, []),
 ("707566605", 1385, 1430, "author", None, None),
 ("707566605", 1665, 1718, "quoted", "John Joe McFadden", []),
 ("707566605", 1772, 1820, "quoted", "John Joe McFadden", None),
 ("707566605", 2652, 2693, "author", None, []),
 ("741896049", 972, 1068, "quoted", "Rebecca Adducci", None),
 ("741896049", 996, 1068, "quoted", "Rebecca Adducci", None),
 ("741896049", 1131, 1210, "quoted", "Rebecca Adducci", None),
 ("741896049", 1131, 1237, "quoted", "Rebecca Adducci", None),
 ("741896049", 1141, 1237, "quoted", "Rebecca Adducci", None),
 ("999000675", 44, 60, "quoted", "Louis Farrakhan", [("America", "place")]),
 ("999000675", 44, 92, "quoted", "Louis Farrakhan", None),
 ("999000675", 225, 241, "quoted", "Louis Farrakhan", None),
 ("999000675", 225, 242, "quoted", "Louis Farrakhan", None),
 ("999000675", 544, 560, "quoted", "Louis Farrakhan", None),
 ("999000675", 893, 904, "quoted", "Louis Farrakhan", None),
 ("999000675", 1019, 1040, "quoted", "Louis Farrakhan", None),
 ("999000675", 1205, 1221, "quoted", "Louis Farrakhan", None),
 ("999000675", 1241, 1275, "quoted", "Louis Farrakhan", [("America", "place")]),
 ("999000675", 1731, 1738, "author", None, [("Farrakhan", "person")]),
 ("999000675", 1819, 1848, "quoted", "Louis Farrakhan", [("Muslims", "group")]),
 ("999000675", 1968, 1987, "author", None, [("Farrakhan", "person")]),
]
#: annotated after the first round of rule changes; the second round (mid-sentence
#: "X said,", more speech verbs, "he" / "she" targets) was made after seeing it
HELD_OUT_1 = [
 ("757964238", 497, 514, "author", None, None),
 ("757964238", 988, 996, "attributed", "Protect The Harvest", []),
 ("757964238", 997, 1019, "attributed", "Protect The Harvest", None),
 ("757964238", 1028, 1043, "attributed", "Protect The Harvest", []),
 ("757964238", 1726, 1731, "attributed", "Protect The Harvest", []),
 ("757964238", 1732, 1754, "attributed", "Protect The Harvest", None),
 ("757964238", 1778, 1784, "attributed", "Protect The Harvest", []),
 ("757964238", 1887, 1894, "attributed", "Protect The Harvest",
  [("Trump administration", "organisation")]),
 ("757964238", 2071, 2089, "author", None, None),
 ("757964238", 2115, 2128, "author", None, None),
 ("757964238", 2175, 2193, "author", None, None),
 ("757964238", 2220, 2232, "author", None, [("Steven Hammond", "person")]),
 ("999000599", 35, 53, "author", None, [("Hillary", "person")]),
 ("999000599", 327, 350, "author", None, []),
 ("999000599", 454, 475, "author", None, [("Clinton", "person")]),
 ("999000599", 1361, 1376, "quoted", "Clinton", None),
 ("999000599", 1379, 1414, "author", None, [("Clinton", "person")]),
 ("999000599", 1500, 1522, "quoted", "Swisher", []),
 ("999000599", 1662, 1684, "author", None, [("Clinton", "person")]),
 ("999000599", 1808, 1896, "author", None, [("Hillary", "person")]),
 ("999000599", 1973, 2215, "attributed", "Kyle Olsen", None),
 ("999000599", 2009, 2032, "author", None, [("Kyle Olsen", "person")]),
 ("999000599", 2194, 2215, "attributed", "Kyle Olsen", [("Hillary Clinton", "person")]),
 ("731762731", 1184, 1208, "quoted", "O’Malley", [("Pope Francis", "person")]),
 ("731762731", 2262, 2295, "attributed", "Saviano", [("church", "organisation")]),
 ("731762731", 2311, 2353, "attributed", "Saviano", []),
 ("731762731", 2388, 2502, "quoted", "Saviano", None),
 ("731762731", 2683, 2717, "author", None, [("Fernando Karadima", "person")]),
 ("731762731", 2751, 2758, "quoted", "Pope Francis", [("Juan Barros", "person")]),
 ("731762731", 3552, 3585, "quoted", "Scanlan", []),
 ("731762731", 3701, 3752, "quoted", "Scanlan", [("Pope Francis", "person")]),
]


#: annotated after the second round, and not used to change anything
HELD_OUT_2 = [
 ("729549972", 14, 33, "author", None, None),
 ("729549972", 154, 169, "author", None, []),
 ("729549972", 1303, 1321, "quoted", "Carl Sagan", []),
 ("729549972", 1413, 1431, "quoted", "Carl Sagan", []),
 ("729549972", 1652, 1701, "author", None, None),
 ("729549972", 1845, 1888, "quoted", "NASA", None),
 ("729549972", 2347, 2381, "author", None, None),
 ("729549972", 2356, 2371, "author", None, []),
 ("715790840", 1438, 1483, "attributed", "Burke", []),
 ("715790840", 1616, 1846, "attributed", "Francis", None),
 ("715790840", 1868, 1907, "author", None, [("Pope Francis", "person")]),
 ("715790840", 1941, 1956, "author", None, [("Pope Francis", "person")]),
 ("715790840", 2134, 2245, "author", None, [("Pope Francis", "person")]),
 ("715790840", 2293, 2319, "author", None, [("Pope Francis", "person")]),
]


def locate(text, a, b, mention):
    inside = text.find(mention, a, b)
    if inside >= 0:
        return inside
    before = text.rfind(mention, 0, a)
    after = text.find(mention, b)
    if before < 0:
        return after
    if after < 0:
        return before
    return before if a - before <= after - b + 200 else after


c = load_split(Path("../shared/ptc"))
out = []
for part, (aid, a, b, voice, speaker, targets) in [("tuning", x) for x in A] + [
        ("held-out-1", x) for x in HELD_OUT_1] + [("held-out-2", x) for x in HELD_OUT_2]:
    text = c.articles[aid].text
    techs = sorted({s.technique for s in c.gold[aid] if (s.start, s.end) == (a, b)})
    assert techs, (aid, a, b)
    row = {"part": part, "article": aid, "start": a, "end": b, "techniques": techs,
           "text": text[a:b], "voice": voice, "speaker": speaker}
    if targets is not None or any(t in TARGETING for t in techs):
        row["targets"] = []
        for mention, kind in targets or []:
            k = locate(text, a, b, mention)
            assert k >= 0, (aid, mention)
            row["targets"].append({"text": mention, "start": k, "end": k + len(mention),
                                   "type": kind})
    out.append(row)
Path(__file__).with_name("gold.jsonl").write_text(
    "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
print(len(out), "spans,", len({r['article'] for r in out}), "articles")
