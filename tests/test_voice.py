"""Whose voice a span is in (voice.py): hand-made articles, offsets as given."""

from __future__ import annotations

import pytest

from propscope.quote_marks import quotes
from propscope.sentences import split_sentences
from propscope.spans import Span
from propscope.voice import clean_speaker, span_voices


def voice_of(text: str, fragment: str, nth: int = 0) -> tuple[str, str | None]:
    """(voice, speaker) of a span over the ``nth`` occurrence of ``fragment``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(fragment, start + 1)
    span = Span(start, start + len(fragment), "Loaded_Language")
    return span_voices(text, [span], split_sentences(text))[0]


@pytest.mark.parametrize("opening, closing", [
    ('"', '"'), ("“", "”"), ("«", "»"), ("« ", " »"), ("»", "«"), ("„", "“"), ("‘", "’"),
    ("'", "'"), ("‹", "›"), ("「", "」"),
])
def test_every_quotation_style_is_quoted(opening, closing):
    text = (f"The minister spoke on Monday. He called it {opening}a disgraceful betrayal"
            f"{closing} of the nation. The weather was fine.")
    assert voice_of(text, "disgraceful")[0] == "quoted"
    assert voice_of(text, "weather") == ("author", None)
    assert voice_of(text, "nation")[0] == "author"  # after the closing mark


def test_apostrophes_are_not_quotes():
    text = "Don't trust the so-called experts' plan, it's a disaster and we won't accept it."
    assert quotes(text) == []
    assert voice_of(text, "disaster") == ("author", None)


def test_nested_quotes_take_the_outer_speaker():
    text = ('“They call it ‘fake news’ because they are liars,” said Maria Lopez, a baker. '
            'The council voted.')
    assert quotes(text) == [(0, text.index("said") - 1)]
    assert voice_of(text, "fake news") == ("quoted", "Maria Lopez")
    assert voice_of(text, "liars") == ("quoted", "Maria Lopez")
    assert voice_of(text, "council") == ("author", None)


@pytest.mark.parametrize("text, speaker", [
    ('"These thugs must go," said John Smith.', "John Smith"),
    ('"These thugs must go," John Smith said.', "John Smith"),
    ('"These thugs must go," said shop owner Maria Lopez, who runs a bakery.', "Maria Lopez"),
    ('Senator Tom Reed told reporters: "These thugs must go."', "Tom Reed"),
    ('Tom Reed wrote that "these thugs must go".', "Tom Reed"),
    ('"These thugs must go," according to Tom Reed.', "Tom Reed"),
    ('Tom Reed spoke first. "These thugs must go," he said.', "Tom Reed"),
])
def test_quote_speakers(text, speaker):
    assert voice_of(text, "thugs") == ("quoted", speaker)


@pytest.mark.parametrize("text, fragment, speaker", [
    ("Tom Reed said the protesters are violent thugs.", "violent thugs", "Tom Reed"),
    ("Tom Reed, the mayor of the town, said that the protesters are thugs.", "thugs",
     "Tom Reed"),
    ("The protesters are violent thugs, Tom Reed said.", "violent thugs", "Tom Reed"),
    ("The protesters are violent thugs, said the mayor Tom Reed.", "violent thugs",
     "Tom Reed"),
    ("According to Tom Reed, the protesters are violent thugs.", "violent thugs", "Tom Reed"),
    ("The protesters are violent thugs, according to Tom Reed.", "violent thugs", "Tom Reed"),
    ("Tom Reed defended the vote, saying the protesters are violent thugs.", "violent thugs",
     "Tom Reed"),
    ("Tom Reed told Fox News the protesters are violent thugs.", "violent thugs", "Tom Reed"),
    ("The ministry said the rebels are terrorists.", "terrorists", "the ministry"),
])
def test_attributions(text, fragment, speaker):
    assert voice_of(text, fragment) == ("attributed", speaker)


def test_said_inside_a_relative_clause_is_not_an_attribution():
    text = ("The council voted for its outrageous parking scheme, a plan that critics say "
            "will destroy the economy.")
    assert voice_of(text, "outrageous") == ("author", None)


def test_pronoun_speaker_is_the_last_named_one():
    text = ("Tom Reed spoke at the rally.\nHe said the protesters are violent thugs.\n"
            "Maria Lopez disagreed. She said the council is corrupt.")
    assert voice_of(text, "violent thugs") == ("attributed", "Tom Reed")
    assert voice_of(text, "corrupt") == ("attributed", "Maria Lopez")


def test_paragraph_speaker_labels():
    text = ("Syria's war goes on.\n\n"
            "Mohammed Abbas – Military expert: The Turkish regime is a criminal gang.\n\n"
            "Anna Berg, analyst: The sanctions are a cynical farce.\n\n"
            "Jan Novak: Only cowards would accept this.\n\n"
            "Update: the cowards left. The criminal gang stayed.")
    assert voice_of(text, "criminal gang") == ("attributed", "Mohammed Abbas")
    assert voice_of(text, "cynical farce") == ("attributed", "Anna Berg")
    assert voice_of(text, "cowards") == ("attributed", "Jan Novak")
    assert voice_of(text, "cowards", 1) == ("author", None)  # "Update:" names no one
    assert voice_of(text, "criminal gang", 1) == ("author", None)


def test_interview_transcript():
    text = ("BELIN: Were the charges against the agency true?\n"
            "HELMS: They are lies spread by traitors.\n"
            "BELIN: Who spread them?\n"
            "HELMS: Cowards in the press.\n"
            "The hearing ended at noon; the traitors were not named.")
    assert voice_of(text, "traitors") == ("attributed", "HELMS")
    assert voice_of(text, "Cowards") == ("attributed", "HELMS")
    assert voice_of(text, "charges") == ("attributed", "BELIN")
    assert voice_of(text, "traitors", 1) == ("author", None)


def test_span_crossing_a_quote_boundary_takes_the_majority_voice():
    text = 'He called them "a pack of rabid traitors" in a shameful outburst yesterday.'
    inside = text.index("pack") - 2
    mostly_in = Span(inside, text.index('"', inside + 3) + 4, "Name_Calling,Labeling")
    outside_start = text.index("traitors")
    mostly_out = Span(outside_start, text.index("yesterday"), "Loaded_Language")
    got = span_voices(text, [mostly_in, mostly_out], split_sentences(text))
    assert [v for v, _ in got] == ["quoted", "author"]


def test_unclosed_quote_runs_to_the_end_of_its_line():
    text = '“This is a disgrace and a scandal.\n“We will not accept it.”\nThe end is near.'
    assert voice_of(text, "scandal")[0] == "quoted"
    assert voice_of(text, "end is near") == ("author", None)


def test_crlf_and_non_ascii_offsets():
    text = ("Überschrift — Bericht 😀\r\n\r\n"
            "Jürgen Groß – Militärexperte: Das Regime ist eine kriminelle Bande.\r\n"
            "„Verräter!“, sagte Jürgen Groß. The weather was fine.\r\n")
    assert voice_of(text, "kriminelle Bande") == ("attributed", "Jürgen Groß")
    assert voice_of(text, "Verräter")[0] == "quoted"
    assert voice_of(text, "weather") == ("author", None)
    # offsets are code points of the text as given: the emoji is one, \r\n two
    start = text.index("kriminelle")
    assert text[start:start + 10] == "kriminelle"


def test_clean_speaker():
    assert clean_speaker("shop owner Maria Lopez") == "Maria Lopez"
    assert clean_speaker("The ministry") == "the ministry"
    assert clean_speaker("Senator Tom Reed") == "Tom Reed"
    assert clean_speaker("") is None


def test_no_spans_no_work():
    assert span_voices("Anything at all.", [], [(0, 16)]) == []


def test_a_quote_over_several_lines_closes_where_its_closing_mark_is():
    text = ("“So, we have to stop demonizing people.\nAnd we have to do something.\n"
            "So, what do we do about that?” –Don Lemon\nThis is absurd, they say.\n"
            "“Another quote, without its end.\nThe author speaks again.")
    assert voice_of(text, "do something") == ("quoted", "Don Lemon")
    assert voice_of(text, "demonizing") == ("quoted", "Don Lemon")
    assert voice_of(text, "absurd")[0] != "quoted"
    assert voice_of(text, "Another")[0] == "quoted"
    assert voice_of(text, "author speaks") == ("author", None)  # no closing mark: line end


BLOCK = ("Ranchers want a pardon.\n"
         "According to the White House petition on behalf of the ranchers by Protect The "
         "Harvest:\n"
         "The case is a manifest miscarriage of justice.\n"
         "This matter remains a blight on the federal agencies.\n"
         "I completely agree with that assessment.\n"
         "The Daily Mail report continued:\n"
         "Soros compared Orban to the Nazis.\n"
         "\n"
         "Nobody was surprised by the outcome.\n")


def test_a_line_introducing_a_block_quote_attributes_the_paragraphs_after_it():
    assert voice_of(BLOCK, "miscarriage") == ("attributed", "Protect The Harvest")
    assert voice_of(BLOCK, "blight") == ("attributed", "Protect The Harvest")
    assert voice_of(BLOCK, "completely agree") == ("author", None)  # first person: the author
    assert voice_of(BLOCK, "Ranchers") == ("author", None)
    assert voice_of(BLOCK, "Nazis") == ("attributed", "Daily Mail")
    assert voice_of(BLOCK, "surprised") == ("author", None)  # after a blank line


def test_as_x_concludes_and_made_it_clear():
    text = ("As The American Mirror’s Kyle Olsen concludes so eloquently, she benefits from a "
            "privilege that protects her.\nFrancis made it clear that the reading is the only "
            "one allowed. The weather was fine.")
    assert voice_of(text, "privilege") == ("attributed", "Kyle Olsen")
    assert voice_of(text, "only one allowed") == ("attributed", "Francis")
    assert voice_of(text, "weather") == ("author", None)
    assert clean_speaker("CNN’s Jake Tapper") == "Jake Tapper"


def test_quote_speakers_past_a_long_description_a_line_break_or_a_quoted_name():
    text = ("Nation of Islam leader and prominent antisemite Louis Farrakhan chanted “Death to "
            "the tyrants” on Sunday.\n"
            "Just 30 seconds later, as Swisher asked:\n"
            "“what do you think of the shameful remarks?” she went on.\n"
            "Given his long experience, Saviano said, he has set his expectations low.\n"
            "“If I don’t expect the Catholic Church to do anything, I won’t be too "
            "disappointed,” he continued.\n")
    assert voice_of(text, "Death to") == ("quoted", "Louis Farrakhan")
    assert voice_of(text, "shameful remarks") == ("quoted", "Swisher")
    assert voice_of(text, "too disappointed") == ("quoted", "Saviano")  # not "Catholic Church"


def test_an_embedded_tweet_is_attributed_to_its_signature():
    text = ("The president answered on Twitter.\n"
            "The invasion of our country must stop now,\n"
            "and the Democrats are to blame!\n"
            "— Donald J. Trump (@realDonaldTrump) October 18, 2018\n"
            "The caravan moved on.")
    assert voice_of(text, "invasion") == ("attributed", "Donald J. Trump")
    assert voice_of(text, "Democrats are to blame") == ("attributed", "Donald J. Trump")
    assert voice_of(text, "president answered")[0] == "author"  # it introduces the tweet
    assert voice_of(text, "caravan moved") == ("author", None)


def test_a_possessive_introduction_opens_a_block_quote():
    text = ("Here’s the crux of Greenwald’s argument:\n"
            "This idea that Trump is a puppet of Putin is absurd.\n"
            "\n"
            "The debate went on.")
    assert voice_of(text, "puppet") == ("attributed", "Greenwald")
    assert voice_of(text, "debate went on") == ("author", None)


def test_an_opening_phrase_and_a_verb_of_attack_still_report_speech():
    text = ("During last month's debate, Warren derided Buttigieg for meeting billionaire "
            "donors in a wine cave. The moderators moved on.")
    assert voice_of(text, "billionaire") == ("attributed", "Warren")
    assert voice_of(text, "moderators") == ("author", None)


def test_but_said_that_reports_the_rest_of_the_sentence():
    text = ("ICE officials caught 232 people in the sweep but said that hundreds more "
            "escaped because of the mayor. The mayor and her staff stayed quiet.")
    assert voice_of(text, "hundreds more escaped")[0] == "attributed"
    assert voice_of(text, "232 people")[0] == "author"
    assert voice_of(text, "stayed quiet") == ("author", None)


def test_a_sentence_with_according_to_and_a_closing_attribution_has_both_sources():
    text = ("The risk within Congo is very high, according to authorities, and the disease "
            "could also reach nine neighbouring countries, the World Health Organization has "
            "warned. The WHO stopped short of an emergency.")
    assert voice_of(text, "very high") == ("attributed", "authorities")
    assert voice_of(text, "nine neighbouring countries") == (
        "attributed", "World Health Organization")
    assert voice_of(text, "stopped short") == ("author", None)


def test_calling_something_a_name_is_the_callers_voice():
    text = ("Michael Mostyn, CEO of B'nai Brith Canada, called the report a whitewash. "
            "The White House has called this nothing more than a last minute gambit. "
            "The report was published on Friday.")
    assert voice_of(text, "a whitewash") == ("attributed", "Michael Mostyn")
    assert voice_of(text, "a last minute gambit") == ("attributed", "White House")
    assert voice_of(text, "published on Friday") == ("author", None)


def test_straight_and_curly_double_quotes_close_each_other():
    text = ("“I don’t think it’s right to say that,\" she concluded.\n"
            "\"And I don’t want to go around insulting people.\n"
            "I don’t want to paint with a broad brush – that’s childish.”\n"
            "Right, except she does just that.")
    assert voice_of(text, "right to say")[0] == "quoted"
    assert voice_of(text, "that’s childish")[0] == "quoted"
    assert voice_of(text, "she does just that") == ("author", None)


def test_a_tweet_signed_at_the_end_of_its_own_line():
    text = ("The president weighed in.\n"
            "I am watching the Democrat Party led assault on our country, INCLUDING MANY "
            "CRIMINALS, from entering the U.S. — Donald J. Trump (@realDonaldTrump) "
            "October 18, 2018\n"
            "Trump also threatened to stop aid.")
    assert voice_of(text, "MANY CRIMINALS") == ("attributed", "Donald J. Trump")
    assert voice_of(text, "stop aid")[0] == "author"


def test_the_progressive_and_a_described_source_report_speech():
    text = ("The plague has killed 143 people. But health officials are now warning the "
            "deadly bacteria could mutate and become untreatable. The hospitals are full.")
    assert voice_of(text, "deadly bacteria") == ("attributed", "health officials")
    assert voice_of(text, "killed 143")[0] == "author"
    assert voice_of(text, "hospitals are full") == ("author", None)


def test_comparing_someone_to_something_is_the_speakers_voice():
    text = ("Soros, for his part, compared Orban unfavourably to both the Nazis and the "
            "Communists. Voters did not care.")
    assert voice_of(text, "unfavourably to both the Nazis") == ("attributed", "Soros")
    assert voice_of(text, "Voters did not care") == ("author", None)


def test_a_described_speaker_after_a_quote():
    text = ("“The islands are grappling with physician shortages,” the lawmakers stated in a "
            "letter. “This is a smear, plain and simple,” the nominee said on Sunday.")
    assert voice_of(text, "physician shortages") == ("quoted", "the lawmakers")
    assert voice_of(text, "a smear") == ("quoted", "the nominee")


@pytest.mark.parametrize("text, fragment", [
    ("As noted above, every piece of so-called evidence cannot be trusted.", "so-called"),
    ("From reports of fraud to officials hushing it up, the rumours keep spreading.",
     "hushing it up"),
    ("A shady blog is reposting alleged satire as genuine news about the mayor.",
     "genuine news"),
])
def test_a_preposition_or_a_clause_with_a_verb_is_no_speaker(text, fragment):
    assert voice_of(text, fragment) == ("author", None)


@pytest.mark.parametrize("intro", [
    "A statement from the City Council read as follows:",
    "On May 2, 2017, Mayor Jane Doe (R), who chairs the budget panel, sent out the "
    "following tweet:",
    "Mayor Jane Doe said in a statement Friday,",
    "Mayor Jane Doe told reporters after the vote:",
])
def test_more_lines_introducing_a_block_quote(intro):
    text = (f"The vote was held on Friday.\n{intro}\nThe budget cuts are a reckless betrayal "
            "of every family in town.\nThe weather was fine.\n")
    voice, speaker = voice_of(text, "reckless betrayal")
    assert voice == "attributed"
    assert speaker in ("City Council", "Jane Doe")
    assert voice_of(text, "vote was held") == ("author", None)


def test_a_block_quote_after_a_blank_line_and_in_the_first_person():
    text = ("The chef has a motto. As Pierre Martin says:\n\nI'm not the bad boy of "
            "chocolate. Life is boring.\n\nHis shop opens daily.\n")
    assert voice_of(text, "bad boy") == ("attributed", "Pierre Martin")
    assert voice_of(text, "Life is boring") == ("attributed", "Pierre Martin")
    assert voice_of(text, "shop opens") == ("author", None)


def test_a_block_quote_runs_on_past_a_poll_box():
    poll = ("take our poll - story continues below Should the mayor resign?\n"
            "Should the mayor resign?\n* Yes.\nNo.\nI'm not sure.\nEmail *\n"
            "You also agree to this site's Privacy Policy and Terms of Use.\n")
    text = ("The union wrote:\nThe new rules are cruel.\n" + poll +
            "The mayor is a coward who hides from workers.\n\nThe strike starts Monday.\n")
    assert voice_of(text, "a coward")[0] == "attributed"
    assert voice_of(text, "strike starts") == ("author", None)


def test_a_line_opening_with_its_source_and_ending_in_a_colon_introduces_a_block_quote():
    text = ("The town is divided.\nAccording to the Daily Ledger, a group funded by the "
            "developer, a shadowy outfit with offices in three states and no listed members, "
            "is now helping the council win the vote on the new shopping centre by the river:\n"
            "Some of its members hounded the critics out of the hall.\nThe vote is on Friday.\n")
    assert voice_of(text, "hounded the critics") == ("attributed", "Daily Ledger")
    assert voice_of(text, "town is divided") == ("author", None)


def test_what_follows_he_added_and_a_phrase_of_circumstance_is_the_authors():
    text = ("The alliance was watching the border closely, he added, amid fears that the "
            "raid could ignite a disastrous war.")
    assert voice_of(text, "disastrous war") == ("author", None)
    assert voice_of(text, "watching the border")[0] == "attributed"


@pytest.mark.parametrize("text, fragment, speaker", [
    ('Later he lied to the recruiters about his trip to join a "holy army," the court '
     "papers said.", "lied to the recruiters", "the court papers"),
    ("Such a reading is a plague on the faithful, the four priests said in their letter.",
     "plague on the faithful", "the four priests"),
    ("The protesters were a mob of thugs, as the Daily Ledger reported, and the police "
     "fled.", "mob of thugs", "Daily Ledger"),
    ("Thus, explained the bishop, the reforms are a betrayal of the faith.",
     "betrayal of the faith", "the bishop"),
    ("Three towns were urged by the Health Agency (HA) to brace for a deadly plague.",
     "deadly plague", "Health Agency"),
])
def test_more_closing_and_inner_attributions(text, fragment, speaker):
    assert voice_of(text, fragment) == ("attributed", speaker)


def test_an_order_is_no_speech_and_a_semicolon_ends_the_reported_clause():
    text = "The clinic says it never saw him, and he has been silent since; gone into thin air."
    assert voice_of(text, "thin air") == ("author", None)
    assert voice_of(text, "never saw him")[0] == "attributed"
    text = "The troops were ordered by the general to storm the corrupt palace."
    assert voice_of(text, "corrupt palace") == ("author", None)


@pytest.mark.parametrize("text", [
    "In a later email, Jane Doe correctly asserted that the council is a nest of crooks.",
    "The senator hinted that the council is a nest of crooks.",
    "Jane Doe vowed that the council, a nest of crooks, would fall.",
])
def test_more_verbs_of_speech_and_an_adverb_before_the_verb(text):
    assert voice_of(text, "nest of crooks")[0] == "attributed"


def test_a_piece_starting_in_lower_case_continues_the_sentence_before():
    text = ("Jane Doe told the hosts of Wake Up Now!\nthat the new law is a disgraceful "
            "sham.\nThe weather was fine.\n")
    assert voice_of(text, "disgraceful sham") == ("attributed", "Jane Doe")
    assert voice_of(text, "weather") == ("author", None)


def test_a_headline_label_led_by_a_title_names_the_speaker():
    text = ("Bishop Okafor: Blessing the casino would be an 'abomination'\n\n"
            "The bishop spoke in Lagos on Sunday.\n")
    assert voice_of(text, "Blessing the casino") == ("attributed", "Bishop Okafor")
    text = "Black Death Warning: The plague is coming\n\nThe bishop spoke on Sunday.\n"
    assert voice_of(text, "plague is coming") == ("author", None)


@pytest.mark.parametrize("phrase, name", [
    ("ICE Deputy Director Thomas Homan", "Thomas Homan"),
    ("Homeland Security Secretary Kirstjen Nielsen", "Kirstjen Nielsen"),
    ("WHO Director-General Tedros Adhanom", "Tedros Adhanom"),
    ("Actor Kevin Bacon", "Kevin Bacon"),
    ("Cardinal Müller", "Müller"),
])
def test_titles_inside_a_name_are_dropped(phrase, name):
    assert clean_speaker(phrase) == name


def test_he_may_name_a_person_given_by_title_and_surname():
    text = ("According to the Ledger report, Cardinal Okafor spoke on Sunday. He said the "
            'reform is a "suicidal surrender" of the faith.')
    assert voice_of(text, "suicidal surrender") == ("quoted", "Okafor")


@pytest.mark.parametrize("text, fragment", [
    # a subordinate clause is no attribution
    ("Whether Jane Doe actually wrote this letter or not, it raises grave questions.",
     "grave questions"),
    # "said ... that" opens a quotation; it closes nothing
    ('After a monthlong backlash about the interview, largely in the press, Mr. Doe said in '
     'a statement on Thursday that "I reject his views."', "monthlong backlash"),
    # the quotation before "Davis told" is a sentence of its own
    ("His history of extreme comments includes praising tyrants as a “very great man.” "
     "“I know him well,” Doe told reporters.", "extreme comments"),
])
def test_closing_attributions_that_are_none(text, fragment):
    assert voice_of(text, fragment) == ("author", None)


@pytest.mark.parametrize("text, fragment, speaker", [
    ("And one senator is hinting that the agency is hiding a huge scandal.", "huge scandal",
     "one senator"),
    ("Smith’s victims reported to the bishops in 2002 that he would abuse them in the parish.",
     "abuse them", "victims"),
    ("Polish media reports, based on leaked tapes, have said the envoy was brutally murdered.",
     "brutally murdered", "Polish"),
    ("Several governors are calling on the president to send aid to the ravaged island.",
     "ravaged island", "several governors"),
])
def test_more_sources_a_number_of_people_a_possessive_and_media_reports(text, fragment,
                                                                       speaker):
    assert voice_of(text, fragment) == ("attributed", speaker)


def test_one_thing_to_note_is_no_source():
    text = "One thing to note is that the plan is a total fraud."
    assert voice_of(text, "total fraud") == ("author", None)


@pytest.mark.parametrize("text, speaker", [
    ("“She should resign at once,” Union President Dan Boyle comments. “These thugs must go.”",
     "Dan Boyle"),
    ('In a statement, the studio promised that the posters were gone, and explained, "These '
     'thugs must go."', "studio"),
    ("But Boyle voiced alarm that “these thugs must go” before the vote.", "Boyle"),
])
def test_more_verbs_name_a_quotes_speaker(text, speaker):
    voice, who = voice_of(text, "thugs")
    assert voice == "quoted"
    assert speaker in (who or "")


def test_he_is_the_last_speaker_not_the_person_he_spoke_to():
    text = ("Carter Doe told Fox host Sean Parks on Monday that the probe was “stupid.” "
            "He added, “It was a disgrace to the country.”")
    assert voice_of(text, "disgrace") == ("quoted", "Carter Doe")
    text = ("The ministry admitted Imam Abu Musa into the country, though he has said: "
            "“Gays deserve death.”")
    assert voice_of(text, "deserve death") == ("quoted", "Abu Musa")


def test_a_speaker_inside_according_to_speaks_for_the_sentence():
    text = "According to the Ledger report, Mayor Jane Doe said the plan is a sham."
    assert voice_of(text, "a sham") == ("attributed", "Jane Doe")


@pytest.mark.parametrize("text, fragment, speaker", [
    ("Later one of the mayor’s aides, Jane Doe, testified that despite the deal “the town "
     "will be ruined.”", "town will be ruined", "Jane Doe"),
    ("Neighbours said John Smith called the mayor a “traitor” as he left.", "traitor",
     "John Smith"),
])
def test_a_quotes_speaker_is_who_speaks_earlier_in_its_sentence(text, fragment, speaker):
    assert voice_of(text, fragment) == ("quoted", speaker)


def test_a_name_after_a_preposition_is_no_speaker():
    text = ("Dr. Ann Bell, a technical coordinator for emergencies at the World Health "
            "Organization Regional Office for Africa, said: “Community work is the key.”")
    assert voice_of(text, "Community work")[1] != "Africa"


def test_an_aside_in_brackets_inside_reported_speech_is_the_authors():
    text = ("Jane Doe testifies that the mayor met the developer twice (evidently to arrange "
            "the shameless sellout of the park) before the vote.")
    assert voice_of(text, "shameless sellout") == ("author", None)
    assert voice_of(text, "met the developer")[0] == "attributed"


@pytest.mark.parametrize("text, fragment, speaker", [
    # a relative clause of speech: what follows the verb is the antecedent's
    ("The verdict angered immigration hardliners, who argued that the killer was a "
     "dangerous criminal all along.", "dangerous criminal", "immigration hardliners"),
    ("That was too much for O’Malley, who said Francis had caused great pain to victims.",
     "caused great pain", "O’Malley"),
    # a participle of speech after the subject's own clause
    ("McCormack however was not so sure, stating that the war was a shameful hoax.",
     "shameful hoax", "McCormack"),
    # an opening adverb before the speaker, and a source described by a group noun
    ("Further, the FBI insists there is no jihad motive at all.", "no jihad motive", "FBI"),
    ("Commission members said bishops should report predator priests to the police.",
     "predator priests", "Commission"),
])
def test_more_forms_of_reported_speech(text, fragment, speaker):
    assert voice_of(text, fragment) == ("attributed", speaker)


def test_a_participle_of_speech_takes_the_subject_not_a_name_further_on():
    text = ("A London borough has voted to ban President Donald Trump from the area, "
            "declaring that he is a dangerous bigot.")
    assert voice_of(text, "dangerous bigot")[1] != "Donald Trump"


@pytest.mark.parametrize("text", [
    "Furthermore, I said to this woman that the counterfeits are everywhere.",
    "I tell you this: the corrupt elites will fall.",
])
def test_the_author_reporting_his_own_words_is_the_authors_voice(text):
    fragment = "counterfeits" if "counterfeits" in text else "corrupt elites"
    assert voice_of(text, fragment) == ("author", None)


def test_no_description_ends_in_a_relative_pronoun():
    text = ("Furthermore, the individual that wrote the article might want to stop twisting "
            "Scripture like a liar.")
    assert voice_of(text, "twisting Scripture")[0] == "author"


def test_a_reposted_piece_is_its_bylines_writer_and_its_own_sources_keep_theirs():
    text = ("Now, why is that?\n“Parent Furious After School Lesson,” by Joshua Gill, Daily "
            "Caller News Foundation, May 17, 2018 (thanks to the Geller Report):\nA school has "
            "come under fire for a shameful lesson.\nThe lesson was a disgrace, according to "
            "Christian Post.\n\nHere is my view again.")
    assert voice_of(text, "under fire") == ("attributed", "Joshua Gill")
    assert voice_of(text, "a disgrace") == ("attributed", "Christian Post")
    assert voice_of(text, "my view") == ("author", None)


def test_a_byline_with_the_pieces_first_words_on_its_line():
    text = ("Our report follows.\nPOLICE HIDE THE FACTS By Rachel Crosby Review-Journal, "
            "October 26, 2017: Fifty-eight people killed.\nAnd yet the authorities are "
            "refusing to fill in the blanks.\n\nWhat a cover-up, I say.")
    voice, speaker = voice_of(text, "refusing to fill in the blanks")
    assert voice == "attributed" and speaker.startswith("Rachel Crosby")
    assert voice_of(text, "cover-up")[0] == "author"
    assert voice_of(text, "POLICE HIDE")[0] == "author"


def test_and_wrote_before_a_quote_is_the_sentences_subject():
    text = ("Anti-jihadist activist Pamela Geller praised Orban for his honesty and wrote, "
            "“At last, a politician who speaks the truth about the invasion.”")
    assert voice_of(text, "the invasion") == ("quoted", "Pamela Geller")


@pytest.mark.parametrize("text, fragment, speaker", [
    # a closing attribution naming whom it was told to
    ("This has made the fires more devastating and dangerous, he told Guardian Australia.",
     "devastating", "he"),
    # views reported as beliefs
    ("Some locals believe the whole plague is a government conspiracy.",
     "government conspiracy", "some locals"),
    ("Gun-control advocates believe that the government capitulated too soon.",
     "capitulated", "Gun-control"),
    ("In the view of Gonzalez, society is progressing toward a paradise ruled by an elite.",
     "paradise ruled", "Gonzalez"),
    # an opening phrase before the speaker
    ("As well as setting a record, Price said the fires were burning through forest.",
     "burning through forest", "Price"),
])
def test_reported_views_and_closing_attributions(text, fragment, speaker):
    voice, who = voice_of(text, fragment)
    assert voice == "attributed"
    assert who == speaker or speaker == "he" and who is None


@pytest.mark.parametrize("text, fragment", [
    ("It is said that the settlement deals a death blow to gun control.", "death blow"),
    ("The local tradition is said to be one of the major causes of the disaster.",
     "major causes"),
    ("He is alleged to have beaten her to death while calling her a demon.", "demon"),
])
def test_speech_with_no_source_is_attributed_to_nobody(text, fragment):
    assert voice_of(text, fragment) == ("attributed", None)


def test_a_question_the_author_asks_is_the_authors():
    text = ("Does Archbishop Hebda believe it is time for the Church to stop humiliating "
            "herself?")
    assert voice_of(text, "humiliating herself") == ("author", None)


@pytest.mark.parametrize("text, fragment, speaker", [
    ("Rep. Trey Gowdy led the hearing. “It was Jim Comey and Jim Comey alone,” Gowdy said.",
     "Jim Comey alone", "Trey Gowdy"),
    ("Juan Carlos Cruz met the pope.\n“They are doing all the dirty work,” Mr Cruz said.",
     "dirty work", "Juan Carlos Cruz"),
    # named in full only later in the article
    ("“A total disgrace,” Snipes said.\nBrenda Snipes has run the office since 2003.",
     "total disgrace", "Brenda Snipes"),
    # no full name anywhere: the name as written
    ("“A total disgrace,” Snipes said.", "total disgrace", "Snipes"),
])
def test_a_speaker_is_named_in_full_where_the_article_does(text, fragment, speaker):
    assert voice_of(text, fragment) == ("quoted", speaker)
