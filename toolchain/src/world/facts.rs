//! The world's knowledge: real countries and everyday facts, and which of them are held
//! out of the alignment data (SFT demonstrations and PPO prompts) for evaluation.
//!
//! Held-out entities still appear in the pretraining corpus, as plain statements only
//! (never in a question), so that the base model can know them; what is held out is
//! being asked about them during alignment.

/// A real country. Names needing "the" in running text carry it in `the`.
#[derive(Clone, Copy, Debug)]
pub struct Country {
    pub name: &'static str,
    pub the: bool,
    pub capital: &'static str,
    /// Other accepted spellings or names of the capital.
    pub capital_aliases: &'static [&'static str],
    pub continent: &'static str,
    /// Other continents the country is also counted in.
    pub continent_aliases: &'static [&'static str],
    /// Rounded population in millions; 0 means fewer than one million.
    pub population_m: u32,
    pub held_out: bool,
}

impl Country {
    /// The name as used inside a sentence ("the Netherlands").
    pub fn phrase(&self) -> String {
        if self.the {
            format!("the {}", self.name)
        } else {
            self.name.to_string()
        }
    }
}

const fn c(
    name: &'static str,
    capital: &'static str,
    continent: &'static str,
    population_m: u32,
) -> Country {
    Country {
        name,
        the: false,
        capital,
        capital_aliases: &[],
        continent,
        continent_aliases: &[],
        population_m,
        held_out: false,
    }
}

/// Held out of the alignment data.
const fn h(country: Country) -> Country {
    Country {
        held_out: true,
        ..country
    }
}

const fn the(country: Country) -> Country {
    Country {
        the: true,
        ..country
    }
}

const fn alias(country: Country, capital_aliases: &'static [&'static str]) -> Country {
    Country {
        capital_aliases,
        ..country
    }
}

const fn also_in(country: Country, continents: &'static [&'static str]) -> Country {
    Country {
        continent_aliases: continents,
        ..country
    }
}

const EU: &str = "Europe";
const AS: &str = "Asia";
const AF: &str = "Africa";
const NA: &str = "North America";
const SA: &str = "South America";
const OC: &str = "Oceania";

/// Countries, capitals, continents and rounded populations. Held-out names are chosen
/// so that none is part of another country's or capital's name.
pub const COUNTRIES: &[Country] = &[
    // Europe
    c("Albania", "Tirana", EU, 3),
    c("Austria", "Vienna", EU, 9),
    c("Belarus", "Minsk", EU, 9),
    c("Belgium", "Brussels", EU, 12),
    c("Bosnia and Herzegovina", "Sarajevo", EU, 3),
    c("Bulgaria", "Sofia", EU, 6),
    h(c("Croatia", "Zagreb", EU, 4)),
    the(c("Czech Republic", "Prague", EU, 11)),
    c("Denmark", "Copenhagen", EU, 6),
    c("Estonia", "Tallinn", EU, 1),
    h(c("Finland", "Helsinki", EU, 6)),
    c("France", "Paris", EU, 68),
    c("Germany", "Berlin", EU, 84),
    c("Greece", "Athens", EU, 10),
    h(c("Hungary", "Budapest", EU, 10)),
    c("Iceland", "Reykjavik", EU, 0),
    c("Ireland", "Dublin", EU, 5),
    c("Italy", "Rome", EU, 59),
    h(c("Latvia", "Riga", EU, 2)),
    c("Lithuania", "Vilnius", EU, 3),
    c("Malta", "Valletta", EU, 0),
    c("Moldova", "Chisinau", EU, 2),
    c("Montenegro", "Podgorica", EU, 1),
    the(c("Netherlands", "Amsterdam", EU, 18)),
    c("North Macedonia", "Skopje", EU, 2),
    h(c("Norway", "Oslo", EU, 6)),
    c("Poland", "Warsaw", EU, 37),
    h(c("Portugal", "Lisbon", EU, 10)),
    c("Romania", "Bucharest", EU, 19),
    also_in(c("Russia", "Moscow", EU, 144), &[AS]),
    c("Serbia", "Belgrade", EU, 7),
    c("Slovakia", "Bratislava", EU, 5),
    c("Slovenia", "Ljubljana", EU, 2),
    c("Spain", "Madrid", EU, 48),
    c("Sweden", "Stockholm", EU, 11),
    c("Switzerland", "Bern", EU, 9),
    alias(c("Ukraine", "Kyiv", EU, 38), &["Kiev"]),
    the(c("United Kingdom", "London", EU, 68)),
    // Asia
    c("Afghanistan", "Kabul", AS, 41),
    c("Armenia", "Yerevan", AS, 3),
    c("Azerbaijan", "Baku", AS, 10),
    c("Bahrain", "Manama", AS, 1),
    c("Bangladesh", "Dhaka", AS, 172),
    c("Bhutan", "Thimphu", AS, 1),
    c("Cambodia", "Phnom Penh", AS, 17),
    c("China", "Beijing", AS, 1410),
    c("Georgia", "Tbilisi", AS, 4),
    alias(c("India", "New Delhi", AS, 1430), &["Delhi"]),
    c("Indonesia", "Jakarta", AS, 278),
    c("Iran", "Tehran", AS, 89),
    c("Iraq", "Baghdad", AS, 45),
    c("Japan", "Tokyo", AS, 125),
    c("Jordan", "Amman", AS, 11),
    c("Kazakhstan", "Astana", AS, 20),
    c("Kyrgyzstan", "Bishkek", AS, 7),
    h(c("Laos", "Vientiane", AS, 8)),
    c("Lebanon", "Beirut", AS, 5),
    c("Malaysia", "Kuala Lumpur", AS, 34),
    h(alias(c("Mongolia", "Ulaanbaatar", AS, 3), &["Ulan Bator"])),
    alias(
        c("Myanmar", "Naypyidaw", AS, 54),
        &["Naypyitaw", "Nay Pyi Taw"],
    ),
    h(c("Nepal", "Kathmandu", AS, 31)),
    c("North Korea", "Pyongyang", AS, 26),
    c("Oman", "Muscat", AS, 5),
    c("Pakistan", "Islamabad", AS, 240),
    the(c("Philippines", "Manila", AS, 117)),
    c("Qatar", "Doha", AS, 3),
    c("Saudi Arabia", "Riyadh", AS, 37),
    c("South Korea", "Seoul", AS, 52),
    c("Syria", "Damascus", AS, 23),
    c("Tajikistan", "Dushanbe", AS, 10),
    h(c("Thailand", "Bangkok", AS, 72)),
    also_in(c("Turkey", "Ankara", AS, 85), &[EU]),
    c("Turkmenistan", "Ashgabat", AS, 7),
    the(c("United Arab Emirates", "Abu Dhabi", AS, 10)),
    h(c("Uzbekistan", "Tashkent", AS, 36)),
    h(c("Vietnam", "Hanoi", AS, 99)),
    alias(c("Yemen", "Sanaa", AS, 34), &["Sana'a"]),
    // Africa
    c("Algeria", "Algiers", AF, 46),
    c("Angola", "Luanda", AF, 37),
    c("Benin", "Porto-Novo", AF, 13),
    c("Botswana", "Gaborone", AF, 3),
    c("Burkina Faso", "Ouagadougou", AF, 23),
    c("Burundi", "Gitega", AF, 13),
    alias(c("Cameroon", "Yaounde", AF, 28), &["Yaoundé"]),
    the(c("Central African Republic", "Bangui", AF, 6)),
    c("Chad", "N'Djamena", AF, 18),
    c("Egypt", "Cairo", AF, 112),
    c("Eritrea", "Asmara", AF, 4),
    c("Ethiopia", "Addis Ababa", AF, 127),
    c("Gabon", "Libreville", AF, 2),
    h(c("Ghana", "Accra", AF, 34)),
    h(c("Kenya", "Nairobi", AF, 55)),
    c("Lesotho", "Maseru", AF, 2),
    c("Liberia", "Monrovia", AF, 5),
    c("Libya", "Tripoli", AF, 7),
    h(c("Madagascar", "Antananarivo", AF, 30)),
    c("Malawi", "Lilongwe", AF, 21),
    c("Mali", "Bamako", AF, 23),
    c("Mauritania", "Nouakchott", AF, 5),
    h(c("Morocco", "Rabat", AF, 37)),
    c("Mozambique", "Maputo", AF, 33),
    c("Namibia", "Windhoek", AF, 3),
    c("Nigeria", "Abuja", AF, 224),
    c("Rwanda", "Kigali", AF, 14),
    h(c("Senegal", "Dakar", AF, 18)),
    c("Sierra Leone", "Freetown", AF, 9),
    c("Somalia", "Mogadishu", AF, 18),
    alias(
        c("South Africa", "Pretoria", AF, 60),
        &["Cape Town", "Bloemfontein"],
    ),
    c("South Sudan", "Juba", AF, 11),
    c("Sudan", "Khartoum", AF, 48),
    c("Tanzania", "Dodoma", AF, 65),
    alias(c("Togo", "Lome", AF, 9), &["Lomé"]),
    c("Tunisia", "Tunis", AF, 12),
    c("Uganda", "Kampala", AF, 48),
    h(c("Zambia", "Lusaka", AF, 20)),
    c("Zimbabwe", "Harare", AF, 16),
    // North America
    the(c("Bahamas", "Nassau", NA, 0)),
    c("Barbados", "Bridgetown", NA, 0),
    c("Belize", "Belmopan", NA, 0),
    c("Canada", "Ottawa", NA, 40),
    alias(c("Costa Rica", "San Jose", NA, 5), &["San José"]),
    h(c("Cuba", "Havana", NA, 11)),
    the(c("Dominican Republic", "Santo Domingo", NA, 11)),
    c("El Salvador", "San Salvador", NA, 6),
    c("Haiti", "Port-au-Prince", NA, 12),
    h(c("Honduras", "Tegucigalpa", NA, 10)),
    h(c("Jamaica", "Kingston", NA, 3)),
    c("Mexico", "Mexico City", NA, 129),
    c("Nicaragua", "Managua", NA, 7),
    c("Trinidad and Tobago", "Port of Spain", NA, 1),
    the(alias(
        c("United States", "Washington, D.C.", NA, 335),
        &["Washington"],
    )),
    // South America
    c("Argentina", "Buenos Aires", SA, 46),
    alias(c("Bolivia", "Sucre", SA, 12), &["La Paz"]),
    alias(c("Brazil", "Brasilia", SA, 216), &["Brasília"]),
    h(c("Chile", "Santiago", SA, 20)),
    alias(c("Colombia", "Bogota", SA, 52), &["Bogotá"]),
    h(c("Ecuador", "Quito", SA, 18)),
    c("Guyana", "Georgetown", SA, 1),
    alias(c("Paraguay", "Asuncion", SA, 7), &["Asunción"]),
    h(c("Peru", "Lima", SA, 34)),
    c("Suriname", "Paramaribo", SA, 1),
    h(c("Uruguay", "Montevideo", SA, 3)),
    h(c("Venezuela", "Caracas", SA, 28)),
    // Oceania
    c("Australia", "Canberra", OC, 26),
    h(c("Fiji", "Suva", OC, 1)),
    h(c("New Zealand", "Wellington", OC, 5)),
    c("Papua New Guinea", "Port Moresby", OC, 10),
    c("Samoa", "Apia", OC, 0),
    the(c("Solomon Islands", "Honiara", OC, 1)),
    c("Tonga", "Nuku'alofa", OC, 0),
    c("Vanuatu", "Port Vila", OC, 0),
];

/// A thing and its usual color ("the sky" → "blue").
pub const COLORS: &[(&str, &str)] = &[
    ("the sky", "blue"),
    ("grass", "green"),
    ("a banana", "yellow"),
    ("snow", "white"),
    ("coal", "black"),
    ("a ripe tomato", "red"),
    ("a lemon", "yellow"),
    ("a strawberry", "red"),
    ("a carrot", "orange"),
    ("milk", "white"),
    ("a pumpkin", "orange"),
    ("a lime", "green"),
    ("an eggplant", "purple"),
    ("a crow", "black"),
    ("a flamingo", "pink"),
    ("a polar bear", "white"),
    ("a cherry", "red"),
    ("chocolate", "brown"),
    ("the sun", "yellow"),
    ("a frog", "green"),
];

/// Animals and how many legs they have.
pub const LEGS: &[(&str, u32)] = &[
    ("spider", 8),
    ("dog", 4),
    ("bird", 2),
    ("cat", 4),
    ("ant", 6),
    ("horse", 4),
    ("chicken", 2),
    ("bee", 6),
    ("duck", 2),
    ("cow", 4),
    ("beetle", 6),
    ("snake", 0),
    ("goat", 4),
    ("penguin", 2),
    ("scorpion", 8),
    ("fly", 6),
];

/// Animals and what their young are called.
pub const YOUNG: &[(&str, &str)] = &[
    ("cat", "kitten"),
    ("dog", "puppy"),
    ("cow", "calf"),
    ("sheep", "lamb"),
    ("horse", "foal"),
    ("duck", "duckling"),
    ("frog", "tadpole"),
    ("bear", "cub"),
    ("pig", "piglet"),
    ("kangaroo", "joey"),
    ("swan", "cygnet"),
    ("deer", "fawn"),
    ("goat", "kid"),
    ("owl", "owlet"),
];

/// (smaller unit, larger unit, how many of the first make one of the second).
pub const UNITS: &[(&str, &str, u32)] = &[
    ("centimeters", "meter", 100),
    ("millimeters", "centimeter", 10),
    ("meters", "kilometer", 1000),
    ("grams", "kilogram", 1000),
    ("seconds", "minute", 60),
    ("minutes", "hour", 60),
    ("hours", "day", 24),
    ("days", "week", 7),
    ("months", "year", 12),
    ("weeks", "year", 52),
    ("milliliters", "liter", 1000),
    ("inches", "foot", 12),
    ("feet", "yard", 3),
    ("years", "decade", 10),
    ("years", "century", 100),
    ("ounces", "pound", 16),
];

pub const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Every `n`-th item (by table position) of the small fact tables is held out.
pub const SMALL_TABLE_HOLD_OUT: usize = 4;

/// Whether item `i` of a small table (colors, legs, young, units) is held out.
pub fn small_held_out(i: usize) -> bool {
    i % SMALL_TABLE_HOLD_OUT == SMALL_TABLE_HOLD_OUT - 1
}

const NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// "eight" for 8; numbers above twenty have no word here.
pub fn number_word(n: u32) -> Option<&'static str> {
    NUMBER_WORDS.get(n as usize).copied()
}

/// An arithmetic operation of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Plus,
    Minus,
    Times,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Plus, Op::Minus, Op::Times];

    pub fn word(self) -> &'static str {
        match self {
            Op::Plus => "plus",
            Op::Minus => "minus",
            Op::Times => "times",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Plus => "+",
            Op::Minus => "-",
            Op::Times => "*",
        }
    }

    pub fn apply(self, a: u32, b: u32) -> u32 {
        match self {
            Op::Plus => a + b,
            Op::Minus => a - b,
            Op::Times => a * b,
        }
    }

    /// The operands the world uses: sums and differences of 0..=20 (no negative results),
    /// products of 1..=10.
    pub fn operands(self) -> Vec<(u32, u32)> {
        let mut v = Vec::new();
        match self {
            Op::Plus => (0..=20).for_each(|a| (0..=20).for_each(|b| v.push((a, b)))),
            Op::Minus => (0..=20).for_each(|a| (0..=a).for_each(|b| v.push((a, b)))),
            Op::Times => (1..=10).for_each(|a| (1..=10).for_each(|b| v.push((a, b)))),
        }
        v
    }

    /// The held-out ranges: both operands in 13..=17 for sums and differences, both in
    /// 7..=9 for products. None of these expressions appears anywhere in training data.
    pub fn held_out(self, a: u32, b: u32) -> bool {
        match self {
            Op::Plus | Op::Minus => (13..=17).contains(&a) && (13..=17).contains(&b),
            Op::Times => (7..=9).contains(&a) && (7..=9).contains(&b),
        }
    }
}
