"""Topic vocabularies and body-sentence templates for the storyteller corpus (data only).

Every topic has the lists ``noun`` (countable, singular), ``place``, ``verb`` (past tense,
transitive) and ``adj``, plus topic-specific lists used by its templates.  The words of all
lists except ``verb`` and ``adj`` (see :data:`SHARED_KEYS`) are exclusive to their topic: they
appear in no other topic, in no general list and in no fixed template text outside the topic,
so that "a topic word occurs" implies "the document has that topic".  Each body template
contains at least two topic words.  See :mod:`saewidgets.zoo.lexicon` for the template syntax.
"""

from __future__ import annotations

from .lexicon import _w

SHARED_KEYS: tuple[str, ...] = ("verb", "adj")  # lists whose words may also occur elsewhere

TOPIC_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "animals": {
        "noun": _w("""cat kitten dog puppy rabbit hamster pony horse donkey goat lamb sheep cow
            calf pig piglet duck duckling goose hen chick owl fox badger hedgehog squirrel mouse
            frog toad deer tortoise parrot guinea_pig ferret tiger elephant giraffe
            zebra monkey camel llama bear otter beaver mole peacock swan rooster kangaroo"""),
        "place": _w(
            "farm barn stable meadow pond paddock zoo pasture farmyard kennel animal_shelter duck_pond"
        ),
        "verb": _w("fed stroked patted brushed cuddled groomed rescued tamed"),
        "adj": _w("fluffy furry woolly playful hungry sleepy shy noisy spotted stripy scruffy cheeky"),
        "feed": _w("hay straw oats pellets"),
    },
    "food": {
        "noun": _w("""apple pear banana plum cherry peach grape strawberry raspberry carrot potato
            tomato cucumber sandwich pancake muffin cupcake cookie biscuit pie tart waffle pizza
            dumpling pretzel sausage egg bagel bun doughnut melon crumpet scone flapjack
            cracker pasty burger meatball turnip parsnip radish onion mushroom coconut pineapple
            apricot walnut peanut lollipop"""),
        "place": _w("kitchen bakery cafe market restaurant pantry diner tea_shop picnic_spot"),
        "verb": _w("baked cooked tasted sliced peeled chopped munched toasted buttered grated roasted"),
        "adj": _w("tasty crunchy juicy sweet sticky crispy spicy delicious creamy salty sour chewy"),
        "meal": _w("soup stew porridge salad curry noodles custard broth"),
    },
    "weather": {
        "noun": _w("""cloud raindrop snowflake hailstone puddle icicle snowman snowball umbrella
            raincoat kite weathervane sunbeam rain_cloud thermometer sledge hailstorm
            snowdrift windsock wellington_boot rain_gauge earmuff sunhat tornado whirlwind dewdrop
            thunderstorm blizzard rainstorm storm"""),
        "place": _w("porch doorstep balcony windowsill hilltop lookout veranda"),
        "verb": _w("caught dodged spotted watched"),
        "adj": _w("""windy rainy snowy stormy foggy misty frosty chilly icy cloudy drizzly breezy
            blustery gusty soggy"""),
        "element": _w("rain snow hail sleet fog mist drizzle"),
        "falling": _w("rain snow hail sleet drizzle"),
        "forecast": _w("forecast weatherman barometer"),
        "season": _w("winter autumn spring"),
    },
    "sport": {
        "noun": _w("""ball football basketball tennis_ball rugby_ball racket helmet whistle trophy
            medal hoop frisbee skateboard beanbag baton stopwatch shuttlecock javelin
            cricket_bat goalpost hockey_stick netball volleyball dumbbell trampoline kneepad
            sweatband shinguard golf_ball golf_club cricket_ball skittle dartboard"""),
        "place": _w("""pitch court stadium gym running_track ice_rink skatepark sports_field leisure_centre
            sports_ground bowling_alley"""),
        "verb": _w("kicked threw bounced passed swung tossed dribbled spun"),
        "adj": _w("speedy nimble sporty bouncy energetic sweaty athletic powerful"),
        "term": _w("race match tournament relay contest"),
        "person": _w("coach referee teammate champion captain"),
    },
    "music": {
        "noun": _w("""guitar piano drum violin flute trumpet trombone harp tambourine xylophone
            recorder cello banjo harmonica accordion saxophone bugle maraca piccolo oboe
            clarinet tuba bagpipe keyboard cymbal triangle bongo kazoo glockenspiel microphone
            metronome songbook"""),
        "place": _w("""concert_hall bandstand stage theatre recording_studio opera_house music_store
            orchestra_pit dance_hall choir_loft"""),
        "verb": _w("played tuned polished practised"),
        "adj": _w("musical tuneful rhythmic catchy lively booming twangy"),
        "piece": _w("song tune melody lullaby march waltz rhyme jingle ballad anthem polka"),
    },
    "space": {
        "noun": _w("""rocket spaceship lander capsule planet star comet meteor asteroid satellite
            galaxy nebula telescope astronaut spacesuit alien crater space_probe rover
            meteorite shooting_star constellation jetpack star_chart spacecraft orbiter
            planetoid airlock solar_panel moon_buggy control_panel radio_dish"""),
        "place": _w(
            "observatory launch_pad planetarium mission_control moon_base rocket_factory launch_site"
        ),
        "verb": _w("launched steered explored piloted orbited landed"),
        "adj": _w("distant faraway twinkling cosmic starry glowing weightless shimmering lunar interstellar"),
        "idea": _w("gravity orbits eclipses stardust moonlight countdowns"),
        "craft": _w("rocket spaceship lander capsule space_shuttle"),
        "skything": _w(
            "planet star comet asteroid satellite galaxy nebula meteor constellation shooting_star"
        ),
    },
    "sea": {
        "noun": _w("""boat sailboat yacht canoe shell seashell crab starfish seagull dolphin whale
            jellyfish seal octopus lobster anchor sandcastle pebble surfboard bucket oar seahorse
            submarine ship shipwreck mermaid penguin turtle shark walrus puffin pelican clam
            oyster prawn stingray eel fishing_rod lifejacket buoy deckchair kayak"""),
        "place": _w("beach harbour seashore cove pier lighthouse dock bay promenade boardwalk"),
        "verb": _w("collected spotted found"),
        "adj": _w("wavy sparkling foamy briny choppy glistening salty"),
        "creature": _w(
            "crab starfish dolphin whale jellyfish seal octopus lobster seahorse turtle shark walrus puffin"
        ),
        "find": _w("shell seashell pebble starfish cockle"),
        "shore": _w("waves rocks tide seaweed"),
        "vessel": _w("boat sailboat yacht canoe rowing_boat raft dinghy kayak submarine"),
    },
    "school": {
        "noun": _w("""pencil crayon notebook ruler eraser textbook dictionary sharpener paintbrush
            pencil_case worksheet globe poster backpack schoolbag desk sticker stapler
            protractor easel folder highlighter fountain_pen chalkboard certificate timetable"""),
        "place": _w(
            "classroom playground library science_lab cloakroom reading_corner schoolyard staffroom corridor"
        ),
        "verb": _w("studied sharpened borrowed"),
        "adj": _w("clever curious studious neat tidy"),
        "stationery": _w("""pencil crayon notebook ruler eraser textbook dictionary sharpener
            paintbrush pencil_case worksheet"""),
        "lesson": _w("spelling reading history science art geography poetry handwriting drama nature_study"),
        "person": _w("teacher classmate headteacher librarian caretaker"),
    },
    "garden": {
        "noun": _w("""flower daisy tulip sunflower daffodil marigold pansy seedling sapling fern
            worm snail ladybird bee butterfly caterpillar beetle bumblebee trowel rake
            wheelbarrow flowerpot watering_can hose shovel scarecrow gnome sundial trellis
            pumpkin lettuce cabbage marrow earthworm moth wasp seed_tray"""),
        "place": _w("garden allotment flowerbed vegetable_patch potting_shed lawn rockery compost_heap"),
        "verb": _w("watered planted picked pruned trimmed"),
        "adj": _w("leafy thorny prickly fragrant blooming tangled overgrown"),
        "bloom": _w("flower daisy tulip sunflower daffodil marigold pansy"),
        "bug": _w("worm snail ladybird bee butterfly caterpillar beetle bumblebee earthworm moth"),
        "plant": _w("sapling vine fern hedge bush beanstalk"),
    },
    "travel": {
        "noun": _w("""suitcase ticket passport map postcard compass guidebook camera souvenir
            rucksack bus train taxi tram aeroplane caravan bicycle scooter luggage_tag ferry
            motorbike lorry van minibus cable_car signpost boarding_pass road_atlas seat_belt"""),
        "place": _w("""train_station airport bus_depot hotel campsite platform ticket_office motorway
            roundabout guesthouse youth_hostel tunnel viaduct"""),
        "verb": _w("packed boarded caught booked unpacked"),
        "adj": _w("crowded winding scenic bustling overnight rattling rickety comfortable"),
        "destination": _w("city countryside mountains lakes islands capital"),
        "vehicle": _w("bus train taxi tram aeroplane caravan minibus cable_car"),
        "item": _w("ticket postcard compass guidebook camera souvenir map luggage_tag passport"),
    },
}

TOPIC_TEMPLATES: dict[str, tuple[str, ...]] = {
    "animals": (
        "{name} {verb} the {adj} {noun} at the {place}.",
        "At the {place}, a {adj} {noun} was waiting for {name}.",
        "{name} gave the {noun:pl} some fresh {feed}.",
        "A {noun} and a {noun2} were playing near the {place}.",
        "{he} watched the {noun:pl} run around the {place}.",
        "The {adj} {noun} followed {name} all the way to the {place}.",
        "{name} made a cosy bed of {feed} for the {noun}.",
        "Every morning, {name} helped to look after the {noun:pl} at the {place}.",
        "The {adj} {noun} nuzzled {name} and twitched its ears.",
        "{name} carefully {verb} the {noun} until it fell asleep in the {feed}.",
    ),
    "food": (
        "{name} {verb} a {adj} {noun} in the {place}.",
        "The smell of {adj} {noun:pl} filled the {place}.",
        "{name} put a {noun} and a {noun2} into {his} lunch box.",
        "At the {place}, {name} helped to make {adj} {noun:pl} for everyone.",
        "{he} took a big bite of the {adj} {noun} from the {place}.",
        "{name} carefully {verb} the {noun:pl} on a wooden board.",
        "A bowl of {adj} {meal} was waiting in the {place}.",
        "{name} stirred a pot of {meal} and added a {noun}.",
        "For lunch, {name} ate a {noun} and a warm bowl of {meal}.",
        "The cook at the {place} gave {name} a {adj} {noun}.",
    ),
    "weather": (
        "It was a {adj} morning, so {name} put on {his} raincoat and took an umbrella.",
        "{name} jumped into a huge puddle near the {place}.",
        "The {adj} wind blew {name}'s umbrella inside out.",
        "From the {place}, {name} watched the {adj} clouds roll by.",
        "{name} caught a snowflake on {his} tongue and watched the {falling} fall.",
        "Thunder rumbled far away, and the rain began to pour on the {place}.",
        "{name} built a big snowman by the {place}.",
        "{name} {verb} a {noun} as the {element} swept across the {place}.",
        "The {adj} weather kept {name} at the {place} all afternoon.",
        "Icicles hung from the {place}, and the {falling} kept falling.",
        "That {season}, the frost sparkled on the {place} and the wind howled.",
        "The sunshine melted the snow on the {place}, and {name} took off {his} raincoat.",
    ),
    "sport": (
        "{name} {verb} the {noun} across the {place}.",
        "At the {place}, {name} practised with {his} new {noun}.",
        "The coach blew a whistle, and the race around the {place} began.",
        "{name} ran faster and faster around the {place} with {his} {noun}.",
        "{name} joined a {adj} team that played at the {place} every week.",
        "The crowd at the {place} clapped as {name} {verb} the {noun}.",
        "{name} stretched {his} legs before the match at the {place}.",
        "{name} kept the {noun} safe in {his} kit bag after the {term}.",
        "The referee pointed at the {place}, and the match started again.",
        "The {term} at the {place} was {adj} and very close.",
        "The {person} gave {name} a shiny {noun} at the {place}.",
    ),
    "music": (
        "{name} {verb} the {noun} at the {place}.",
        "At the {place}, {name} learned a {adj} {piece} on the {noun}.",
        "The sound of a {noun} drifted out of the {place}.",
        "{name} hummed a {adj} {piece} while {he} walked to the {place}.",
        "{name} tapped a beat on {his} {noun} and made up a {piece}.",
        "The band at the {place} played a {adj} {piece} for everyone.",
        "{name} practised the {noun} every evening until the {piece} sounded just right.",
        "A {noun} and a {noun2} played together at the {place}.",
        "{name} wrote a {piece} about a {noun}.",
    ),
    "space": (
        "{name} looked through a telescope at a {adj} {skything}.",
        "At the {place}, {name} watched a {craft} blast off into the sky.",
        "{name} dreamed of flying a {craft} to a {adj} planet.",
        "{name} put on a spacesuit and climbed into the {craft}.",
        "The {craft} zoomed past a {adj} {skything}.",
        "From the {place}, {name} saw a {skything} streak across the night sky.",
        "An astronaut at the {place} showed {name} how to float like a feather.",
        "{name} built a model {craft} and pretended to land it near a {skything}.",
        "At the {place}, {name} learned about every {skything} in the night sky.",
        "{name} read a book about {idea} and {idea2} at the {place}.",
    ),
    "sea": (
        "{name} built a sandcastle on the {place} and decorated it with a {find}.",
        "The waves splashed over the rocks near the {place}.",
        "{name} walked along the {place} and looked at the {shore}.",
        "{name} found a {adj} {find} in a rock pool by the {place}.",
        "A {vessel} bobbed up and down in the water near the {place}.",
        "From the {place}, {name} watched a {creature} swim far out to sea.",
        "{name} sailed a little {vessel} across the {adj} bay.",
        "The tide came in, and {name} ran back up the {adj} beach.",
        "{name} collected {find:pl} along the {place} until {his} bucket was full.",
        "A seagull swooped down and landed on the {place}.",
        "{name} dipped {his} toes into the {adj} sea at the {place}.",
    ),
    "school": (
        "In the {place}, {name} learned all about {lesson}.",
        "{name} sharpened {his} pencil before the {lesson} lesson.",
        "The {person} read a story to the class in the {place}.",
        "{name} packed a {stationery} and a {stationery2} into {his} schoolbag.",
        "At the {place}, {name} found a {adj} {stationery} under a desk.",
        "The bell rang, and {name} hurried to the {place} with {his} {stationery}.",
        "{name} wrote a poem about {lesson} in {his} notebook.",
        "During the {lesson} lesson, {name} drew a picture with a {stationery}.",
        "{name} put {his} hand up in the {lesson} lesson in the {place}.",
        "The {person} pinned {name}'s poster on the wall of the {place}.",
    ),
    "garden": (
        "{name} {verb} the {bloom:pl} in the {place}.",
        "A {bug} crawled across a {adj} leaf in the {place}.",
        "{name} pushed the wheelbarrow to the {place}.",
        "{name} dug a hole with a trowel and planted a {bloom}.",
        "The {bloom:pl} in the {place} were tall and {adj}.",
        "{name} filled the watering can and watered the {place}.",
        "{name} watched a {bug} climb up a {adj} {plant}.",
        "{name} found a {bug} hiding under a flowerpot in the {place}.",
        "{name} picked a {bloom} and looked closely at its petals.",
        "The {adj} {plant} at the edge of the {place} was full of {bug:pl}.",
    ),
    "travel": (
        "{name} packed {his} suitcase and hurried to the {place}.",
        "At the {place}, {name} boarded a {adj} {vehicle}.",
        "The {vehicle} rattled past the hills on its way to the {destination}.",
        "{name} looked at the map and found the way to the {place}.",
        "{name} bought a {item} at the {place}.",
        "{name} sent a postcard from the {place} to {his} grandma.",
        "The {vehicle} stopped at the {place}, and {name} climbed aboard.",
        "{name} held {his} ticket tightly as the {vehicle} pulled away.",
        "From the window of the {vehicle}, {name} saw mountains and villages.",
        "{name} took a photo of the {place} with {his} camera.",
        "{name} was off to the {destination} on a {adj} {vehicle}.",
    ),
}

TOPIC_FRIEND_TEMPLATES: dict[str, tuple[str, ...]] = {
    "animals": (
        "{name} and {friend} {verb} the {noun:pl} together at the {place}.",
        "{friend} showed {name} a {adj} {noun} hiding in the {place}.",
    ),
    "food": (
        "{name} and {friend} shared a {adj} {noun} at the {place}.",
        "{friend} showed {name} how to make {noun:pl} in the {place}.",
    ),
    "weather": (
        "{name} and {friend} splashed through the {element} to the {place}.",
        "{friend} lent {name} an umbrella because the day was so {adj}.",
    ),
    "sport": (
        "{name} {verb} the {noun} to {friend} across the {place}.",
        "{name} and {friend} raced each other around the {place} after the {term}.",
    ),
    "music": (
        "{name} played the {noun} while {friend} sang a {piece}.",
        "{friend} taught {name} a {adj} {piece} at the {place}.",
    ),
    "space": (
        "{name} and {friend} pretended to fly a {craft} to a {adj} {skything}.",
        "{friend} pointed at a {adj} {skything}, and {name} looked through the telescope.",
    ),
    "sea": (
        "{name} and {friend} built a sandcastle with a moat at the {place}.",
        "{friend} showed {name} a {creature} hiding under a rock at the {place}.",
    ),
    "school": (
        "{name} sat next to {friend} during the {lesson} lesson in the {place}.",
        "{friend} lent {name} a {stationery} in the {place}.",
    ),
    "garden": (
        "{name} and {friend} planted {bloom} seeds in the {place}.",
        "{friend} helped {name} pull up the weeds around the {bloom:pl} in the {place}.",
    ),
    "travel": (
        "{name} and {friend} waited for the {vehicle} at the {place}.",
        "{friend} read the map while {name} carried the suitcase to the {place}.",
    ),
}
