package api

import "fmt"

// The estimated wait is shown as a range, the same on the ticket, the
// waiting-room screen and the mobile page: "entre 10 et 20 min", or "moins
// de 5 min" when an agent will take the ticket within five minutes. The hub
// sends the range in seconds (estimated_wait_min_s, estimated_wait_max_s);
// WaitMinutes rounds it to the whole minutes shown, outwards, and
// FormatWait writes it.

// ShortWait is the top of the range below which the wait is shown as
// "moins de 5 min": shorter ranges say nothing more useful.
const ShortWait = 5

// WaitMinutes rounds a range in seconds to the whole minutes shown: the low
// end down, the high end up, the high end at least ShortWait, and the low
// end zero when the high end is ShortWait ("moins de 5 min").
func WaitMinutes(lowS, highS int) (lo, hi int) {
	lo, hi = max(lowS, 0)/60, (max(highS, 0)+59)/60
	if hi <= ShortWait {
		return 0, ShortWait
	}
	return min(lo, hi), hi
}

// FormatWait writes a range of waits in seconds in lang ("fr" unless "en"):
// "entre 10 et 20 min", "moins de 5 min"; past an hour, in hours and
// minutes ("entre 50 min et 1 h 20", "entre 1 h 10 et 1 h 40").
func FormatWait(lang string, lowS, highS int) string {
	lo, hi := WaitMinutes(lowS, highS)
	short, between, and := "moins de %d min", "entre ", " et "
	if lang == "en" {
		short, between, and = "under %d min", "", " to "
	}
	if lo == 0 && hi == ShortWait {
		return fmt.Sprintf(short, ShortWait)
	}
	if hi < 60 {
		return fmt.Sprintf("%s%d%s%d min", between, lo, and, hi)
	}
	return between + minutesText(lo) + and + minutesText(hi)
}

// minutesText writes minutes: "50 min", "1 h 05".
func minutesText(m int) string {
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d", m/60, m%60)
}
