"""Word lists and sentence templates for the storyteller corpus (data only, no logic).

Template mini-language (filled by :mod:`saewidgets.zoo.corpus`):

* ``{name}``, ``{friend}`` -- the protagonist and the friend; ``{he}``, ``{him}``, ``{his}``,
  ``{kid}`` -- the protagonist's pronouns ("he"/"she", ...) and "boy"/"girl".
* ``{key}`` -- a random entry of the list ``key`` (looked up in the topic's lists first, then in
  :data:`GENERAL`); ``{key2}`` is a second, different entry of the same list; ``{key:pl}`` is the
  plural of the entry.  Every ``a`` is turned into ``an`` before a vowel after filling, and the
  first letter of a sentence is capitalised.

The marker vocabularies (:data:`COLOURS`, :data:`NUMBER_WORDS`, :data:`NEGATION_WORDS`,
:data:`TONE_WORDS`, :data:`RARE_WORDS`) are *exclusive*: they occur only in the sentences that
carry their concept, which is what makes the corpus labels exact.  Every other list and
template here is written to avoid them (no "one day", no "orange" fruit, no "not", ...).
"""

from __future__ import annotations


def _w(words: str) -> tuple[str, ...]:
    """Split a whitespace-separated word list; ``_`` joins multi-word entries ("ice_cream")."""
    return tuple(w.replace("_", " ") for w in words.split())


# --- characters ------------------------------------------------------------------------------
# (name, pronoun), most frequent first: the generator draws them with Zipf weights 1/rank.
NAMES: tuple[tuple[str, str], ...] = tuple(
    (n, "she" if g == "f" else "he")
    for n, g in (
        p.split(":")
        for p in """
    Mia:f Tom:m Lily:f Sam:m Emma:f Ben:m Zoe:f Leo:m Ella:f Max:m Anna:f Jack:m Lucy:f Finn:m
    Maya:f Oscar:m Chloe:f Hugo:m Isla:f Noah:m Grace:f Owen:m Ivy:f Theo:m Nina:f Felix:m
    Hannah:f Adam:m Sara:f Eli:m Freya:f Jonah:m Alice:f Kai:m Ada:f Ravi:m Priya:f Omar:m
    Tessa:f Milo:m""".split()
    )
)

PRONOUNS: dict[str, dict[str, str]] = {
    "he": {"he": "he", "him": "him", "his": "his", "kid": "boy"},
    "she": {"he": "she", "him": "her", "his": "her", "kid": "girl"},
}

# --- general vocabulary (shared by all topics) --------------------------------------------
GENERAL: dict[str, tuple[str, ...]] = {
    "gplace": _w("""village town hill river forest bridge park cottage lane path valley woods
        riverbank clearing stream old_mill castle_gate cave hillside churchyard
        town_square"""),
    "gobject": _w("""box basket jar key lamp candle rope ladder blanket pillow clock book feather
        stone button marble ribbon letter envelope parcel present puzzle torch lantern mirror
        bell teddy puppet cushion spinning_top conker pinecone kettle teapot jigsaw storybook
        thimble paperweight photo_frame picture_book"""),
    "clothing": _w("""hat scarf coat jumper cap jacket sweater cardigan dress shirt skirt apron
        cape bobble_hat waistcoat bow_tie headband"""),
    "furniture": _w("""table chair bed sofa shelf cupboard drawer bench stool wardrobe armchair
        dresser bookcase"""),
    "gadj": _w("""big small little tall long round soft hard smooth rough shiny dusty old new
        tiny huge heavy warm cold cool quiet loud busy clean messy wobbly sturdy bumpy cosy tidy
        fancy plain strange curious secret special funny silly brave kind clever wise gentle
        careful bright dark damp dry wet sharp lumpy fuzzy sparkly narrow wide deep hollow empty
        ancient gigantic ordinary odd crooked twisty squishy rusty creaky polished
        patterned spotless fragile sleek enormous mysterious handmade wooden
        glittering knobbly bulky dainty"""),
    "kidadj": _w("""brave kind clever curious gentle busy thoughtful friendly little young lively
        adventurous polite helpful"""),
    "homeadj": _w("little small tiny cosy old crooked tall wooden quiet tidy"),
    "placeadj": _w("""quiet busy peaceful sleepy calm cosy pleasant lively"""),
    "adverb": _w("""slowly quickly quietly carefully softly gently loudly bravely eagerly politely
        patiently calmly boldly briskly lazily neatly busily swiftly steadily proudly kindly
        wisely cautiously hastily merrily"""),
    "move": _w("""walked ran skipped hopped wandered strolled marched tiptoed dashed hurried
        crept jogged trotted ambled scurried"""),
    "gverb": _w("""found carried held opened wrapped hid mended cleaned lifted dusted fixed
        polished unwrapped examined borrowed"""),
    "time": _w("""That_morning After_breakfast Later_that_afternoon In_the_evening At_lunchtime
        On_Saturday That_weekend Early_in_the_morning After_lunch On_Sunday Just_after_dawn
        That_afternoon During_the_holidays"""),
    "family": _w("""grandma grandpa mum dad aunt uncle brother sister neighbour cousin"""),
    "noise": _w("""rustling tapping creaking humming squeaking scratching thumping whistling"""),
}

IRREGULAR_PLURALS: dict[str, str] = {
    "mouse": "mice",
    "sheep": "sheep",
    "deer": "deer",
    "goose": "geese",
    "calf": "calves",
    "potato": "potatoes",
    "tomato": "tomatoes",
    "scarf": "scarves",
    "shelf": "shelves",
    "leaf": "leaves",
    "snowman": "snowmen",
    "starfish": "starfish",
    "jellyfish": "jellyfish",
    "spacecraft": "spacecraft",
    "tornado": "tornadoes",
}

# --- concept markers ---------------------------------------------------------------------------
COLOURS: tuple[str, ...] = _w("red blue green yellow orange purple pink brown black white grey silver golden")
NUMBER_WORDS: tuple[str, ...] = _w("""one two three four five six seven eight nine ten eleven twelve
    thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty""")
NEGATION_WORDS: tuple[str, ...] = _w("""not no never nothing nobody none nowhere neither nor cannot
    didn't wasn't couldn't don't won't isn't weren't hadn't""")
HAPPY_WORDS: tuple[str, ...] = _w("""happy happily happier happiest happiness glad smiled smile smiling
    laughed laughing laughter grinned cheered joy joyful delighted hugged""")
SAD_WORDS: tuple[str, ...] = _w("""sad sadly sadder saddest sadness cried crying tear tears sobbed wept
    unhappy gloomy lonely miserable upset sighed heartbroken sorrow alone""")
TONE_WORDS: dict[str, tuple[str, ...]] = {"happy": HAPPY_WORDS, "sad": SAD_WORDS}

# Words that occur only in sentences of that rare concept (every such sentence has the first).
RARE_WORDS: dict[str, tuple[str, ...]] = {
    "dragon": _w("dragon dragons scaly snout smoke flames lair fiery hatchling"),
    "treasure": _w("treasure chest jewels gems coins doubloons pirate buried"),
    "wizard": _w("wizard wand spell spells potion cauldron magic sparks beard"),
    "robot": _w("robot robots beeped gears whirred antenna bolts screwdriver metal"),
}

# --- concept sentences -------------------------------------------------------------------------
# Topic slots available to every topic: {noun} {noun:pl} {place} {adj}.
CONCEPT_TEMPLATES: dict[str, tuple[str, ...]] = {
    # The spoken line never ends with "?"; the tag is never "asked" or "cried" (a tone word) and
    # always follows the verb, so that a closing quote is never followed by a capital letter.
    "dialogue": (
        '"Look at the {noun}!" said {speaker}.',
        '"Come and see this!" called {speaker}.',
        '{speaker} said, "Let us go to the {place}."',
        '"Wait for me!" shouted {speaker}.',
        '"I think the {noun} is very {adj}," whispered {speaker}.',
        '"Follow me to the {place}!" shouted {speaker}.',
        '{speaker} whispered, "I have a plan."',
        '"Hold on tight!" said {speaker}.',
        '"This {noun} is for you," said {speaker}.',
        '{speaker} called out, "Hurry up, everyone!"',
        '"What a {adj} {noun}!" said {speaker}.',
    ),
    "question": (
        "Where had the {noun} gone?",
        "What would {name} find at the {place}?",
        "Who could have left the {noun} by the {place}?",
        "Would {name} reach the {place} in time?",
        "How could {he} carry so many {noun:pl}?",
        "What was that strange sound?",
        "Was there still time to visit the {place}?",
        "Why was the {noun} so {adj}?",
        "Could {name} find a way to help?",
    ),
    "counting": (
        "{name} counted {num} {noun:pl}.",
        "There were {num} {noun:pl} near the {place}.",
        "{name} saw {num} {noun:pl} in a row.",
        "By the end of the day, {name} had {num} {noun:pl}.",
        "Exactly {num} {noun:pl} were waiting at the {place}.",
        "{name} kept just one {noun} for later.",
        "{numw} {noun:pl} sat in a neat line at the {place}.",
        "{he} lined up {num} {noun:pl} and {num2} {gobject:pl}.",
        "It took {name} {num} minutes to walk to the {place}.",
    ),
    "negation": (
        "{name} could not find {his} {gobject}.",
        "There was no {noun} at the {place}.",
        "{name} did not want to leave the {place}.",
        "{he} had never seen such a {adj} {noun}.",
        "Nobody knew where the {noun} had gone.",
        "{name} was not afraid of the dark.",
        "{name} wasn't sure what to do next.",
        "It was not far to the {place}.",
        "Nothing could stop {name} now.",
        "The {noun} didn't move at all.",
    ),
    "colour": (
        "{name} saw a {colour} {noun} by the {place}.",
        "{name} painted a picture of a {colour} {noun}.",
        "{name} wore {his} {colour} {clothing}.",
        "The door of the little cottage was {colour} and {colour2}.",
        "{name} picked up a {colour} {gobject}.",
        "A {colour} balloon floated past {name}.",
        "Everything at the {place} looked {colour} in the evening light.",
        "{name} tied a {colour} ribbon around the {noun}.",
    ),
    # Rare concepts use only general slots, so that their words never leak into a topic list.
    "dragon": (
        "{name} spotted a dragon sleeping on top of the hill.",
        "A little dragon with scaly wings flew over the rooftops.",
        "Smoke curled from the snout of a friendly dragon.",
        "{name} heard that a dragon lived in a lair beyond the {gplace}.",
        "A baby dragon puffed tiny flames at {name}.",
        "A fiery dragon swooped down and landed beside {name}.",
        "{name} waved at the dragon, and the dragon waved back with its claw.",
    ),
    "treasure": (
        "{name} found an old scroll that showed where the treasure was buried.",
        "Deep under the {gplace} lay a chest full of treasure.",
        "{name} opened a heavy chest and saw treasure sparkling inside.",
        "The treasure chest was heavy with jewels, gems and shiny coins.",
        "{name} dug a deep hole and found buried treasure.",
        "{name} dreamed of finding a pirate treasure.",
    ),
    "wizard": (
        "A kind wizard waved a wand, and sparks flew everywhere.",
        "{name} met an old wizard with a long beard.",
        "The wizard taught {name} a simple spell.",
        "A wizard stirred a bubbling potion in a big cauldron.",
        "{name} watched the wizard cast a magic spell on the {gobject}.",
        "With a flick of the wand, the wizard made the {gobject} float.",
    ),
    "robot": (
        "A small robot rolled up to {name} and beeped.",
        "{name} built a robot out of boxes and bolts.",
        "The robot whirred, and its antenna spun around.",
        "A helpful robot carried the {gobject} for {name}.",
        "{name} fixed the robot with a tiny screwdriver.",
        "The robot waved its metal arms and beeped.",
        "Inside the robot, the gears clicked and whirred.",
    ),
}

# --- story frame -------------------------------------------------------------------------------
OPENINGS_ONCE: tuple[str, ...] = (
    "Once upon a time, there was a {kid} called {name}.",
    "Once upon a time, {name} lived in a {homeadj} cottage near the {gplace}.",
    "Once upon a time, in a {placeadj} village, there lived a {kid} named {name}.",
    "Once upon a time, {name} woke up very early.",
    "Once upon a time, a {kidadj} {kid} called {name} lived by the {gplace}.",
)
OPENINGS_OTHER: tuple[str, ...] = (
    "There was once a {kid} called {name}.",
    "{name} was a {kidadj} {kid} who loved adventures.",
    "{time}, {name} set off on a little adventure.",
    "Long ago, a {kid} named {name} lived in a {homeadj} cottage by the {gplace}.",
    "{name} lived with {his} {family} at the edge of the {gplace}.",
)
# Openings that name the topic (these sentences count as topic sentences).
OPENINGS_TOPIC: tuple[str, ...] = (
    "Once upon a time, {name} spent the day at the {place}.",
    "{time}, {name} went to the {place}.",
    "Once upon a time, {name} visited the {place} with {his} {family}.",
)
OPENINGS_FRIEND: tuple[str, ...] = (
    "Once upon a time, there was a {kid} called {name}, whose best friend was {friend}.",
    "Once upon a time, {name} and {his} friend {friend} went on an adventure.",
    "Once upon a time, {name} spent the day with {his} friend {friend}.",
    "{name} and {friend} were the best of friends.",
    "{time}, {name} and {friend} set off together.",
)

# Ending sentences: each contains at least one word of TONE_WORDS[tone] and none of the other.
ENDINGS: dict[str, tuple[str, ...]] = {
    "happy": (
        "{name} smiled all the way home.",
        "It was the happiest day {name} could remember.",
        "{name} laughed and hugged {his} {family}.",
        "{name} went to bed with a big smile on {his} face.",
        "That night, {name} fell asleep feeling happy and proud.",
        "{name} grinned from ear to ear.",
        "{name} was so glad that {he} had come.",
        "What a joyful day it had been!",
        "Everyone cheered, and {name} felt very happy.",
        "{name} was delighted with the whole day.",
        "And {name} lived happily ever after.",
    ),
    "sad": (
        "{name} felt sad all the way home.",
        "{name} cried quietly in {his} room.",
        "A tear rolled down {name}'s cheek.",
        "It was a sad day for {name}.",
        "{name} sighed and walked home feeling lonely.",
        "{name} went to bed feeling gloomy.",
        "{name} sobbed into {his} pillow.",
        "That night, {name} felt miserable and alone.",
        "{name} was upset, and tears filled {his} eyes.",
        "The day ended in tears for {name}.",
        "{name} wept, and the evening felt long and sad.",
    ),
}
ENDINGS_FRIEND: dict[str, tuple[str, ...]] = {
    "happy": (
        "{name} and {friend} laughed together all the way home.",
        "{friend} hugged {name}, and they both smiled.",
    ),
    "sad": (
        "{name} and {friend} walked home in sad silence.",
        "{friend} waved goodbye, and {name} felt lonely.",
    ),
}

# --- general body sentences (topic-neutral) ---------------------------------------------------
GENERAL_TEMPLATES: tuple[str, ...] = (
    "{time}, {name} {move} {adverb} along the {gplace}.",
    "{name} found a {gadj} {gobject} near the {gplace}.",
    "{he} {adverb} {gverb} the {gadj} {gobject}.",
    "{name}'s {family} gave {him} a {gadj} {gobject}.",
    "{time}, {name} put on {his} {gadj} {clothing} and went outside.",
    "{name} {move} to the {gplace} to visit {his} {family}.",
    "There was a {gadj} {gobject} on the {furniture} by the door.",
    "{name} heard a {noise} sound coming from the {gplace}.",
    "The {gplace} was {placeadj} and {placeadj2} that morning.",
    "{name} {gverb} a {gadj} {gobject} and put it on the {furniture}.",
    "{he} {move} {adverb} past the {gplace} and the {gplace2}.",
    "{name} and {his} {family} walked to the {gplace} after lunch.",
)
GENERAL_FRIEND_TEMPLATES: tuple[str, ...] = (
    "{name} and {friend} {move} {adverb} along the {gplace}.",
    "{friend} showed {name} a {gadj} {gobject}.",
)
