//! Wall-clock times in UTC for the session log and its default file name. UTC, because
//! local time needs the time-zone database, and a log read next to a board's clock or
//! another machine's log is easier to line up in UTC anyway.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A moment, split into calendar fields (proleptic Gregorian, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl Utc {
    pub fn now() -> Utc {
        Utc::at(SystemTime::now())
    }

    /// `t` in calendar fields; times before 1970 are clamped to it.
    pub fn at(t: SystemTime) -> Utc {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        Utc {
            year,
            month,
            day,
            hour: (rest / 3600) as u32,
            minute: (rest / 60 % 60) as u32,
            second: (rest % 60) as u32,
            millis: d.subsec_millis(),
        }
    }

    /// `YYYYmmdd-HHMMSS`, for file names.
    pub fn file_stamp(&self) -> String {
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// ISO 8601 with milliseconds: `2025-03-01T12:00:00.250Z`.
impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

/// Year, month and day of the `days`-th day after 1970-01-01. Counts in 400-year eras
/// (146 097 days each, the Gregorian cycle) of years starting on 1 March, so that the
/// leap day is the last day of its year and months have a fixed pattern.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    const ERA_DAYS: i64 = 146_097;
    // 1970-01-01 is day 719 468 after 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(ERA_DAYS);
    let day_of_era = z.rem_euclid(ERA_DAYS);
    // Years of 365 days, less the leap days before this one (one every 4 years but each
    // 100th, plus each 400th).
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, (28 or 29): five
    // months take 153 days.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> Utc {
        Utc::at(UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis))
    }

    #[test]
    fn known_dates() {
        assert_eq!(at(0, 0).to_string(), "1970-01-01T00:00:00.000Z");
        // `date -u -d @951782400` → 2000-02-29 (a 400th year is a leap year).
        assert_eq!(at(951_782_400, 5).to_string(), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(951_868_799, 999).to_string(), "2000-02-29T23:59:59.999Z");
        assert_eq!(at(951_868_800, 0).to_string(), "2000-03-01T00:00:00.000Z");
        // 2100 is not a leap year: 28 February is followed by 1 March.
        assert_eq!(at(4_107_456_000, 0).to_string(), "2100-02-28T00:00:00.000Z");
        assert_eq!(at(4_107_542_400, 0).to_string(), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_735_689_599, 0).file_stamp(), "20241231-235959");
        assert_eq!(at(1_735_689_600, 0).file_stamp(), "20250101-000000");
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        let mut prev = civil_from_days(0);
        for d in 1..(200 * 366) {
            let (y, m, day) = civil_from_days(d);
            let next_day = (prev.0, prev.1, prev.2 + 1);
            let next_month = (prev.0, prev.1 + 1, 1);
            let next_year = (prev.0 + 1, 1, 1);
            assert!(
                [next_day, next_month, next_year].contains(&(y, m, day)),
                "{prev:?} → {:?}",
                (y, m, day)
            );
            assert!((1..=31).contains(&day) && (1..=12).contains(&m));
            prev = (y, m, day);
        }
    }
}
