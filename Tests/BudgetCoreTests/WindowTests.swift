import BudgetCore
import Foundation
import Testing

/// The window of `period` holding the instant written as `iso`, computed in zone `tz`.
private func window(_ iso: String, _ period: Period, in tz: String = "UTC", scope: Scope = Scope()) throws -> Window {
    try #require(Window.containing(ISO.instant(iso), period: period, timeZone: zone(tz), scope: scope))
}

/// Checks a time window's start and end against literal instants.
private func expectBounds(_ window: Window, _ start: String, _ end: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(window.start == ISO.instant(start), "start", sourceLocation: sourceLocation)
    #expect(window.end == ISO.instant(end), "end", sourceLocation: sourceLocation)
}

private func length(_ window: Window) throws -> TimeInterval {
    let start = try #require(window.start)
    let end = try #require(window.end)
    return end.timeIntervalSince(start)
}

@Suite("A limit window is the hour, local day, ISO week or local month holding the event time in the budget's zone, or the caller's session or task")
struct WindowTests {

    @Suite("In UTC, windows start at the top of the hour, at midnight, on Monday and on the 1st, and end where the next one starts")
    struct UTCWindows {
        @Test func hourlyWindowRunsFromTheTopOfTheHourForOneHour() throws {
            expectBounds(try window("2026-05-14T10:17:23.456Z", .hourly), "2026-05-14T10:00:00Z", "2026-05-14T11:00:00Z")
        }

        @Test func dailyWindowRunsFromMidnightToMidnight() throws {
            expectBounds(try window("2026-05-14T10:17:23Z", .daily), "2026-05-14T00:00:00Z", "2026-05-15T00:00:00Z")
        }

        @Test func weeklyWindowRunsFromMondayToMonday() throws {
            // 2026-05-14 is a Thursday.
            expectBounds(try window("2026-05-14T10:17:23Z", .weekly), "2026-05-11T00:00:00Z", "2026-05-18T00:00:00Z")
        }

        @Test func monthlyWindowRunsFromTheFirstToTheFirstOfTheNextMonth() throws {
            expectBounds(try window("2026-05-14T10:17:23Z", .monthly), "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z")
        }

        @Test func startInstantBelongsToItsWindowAndEndInstantToTheNext() throws {
            expectBounds(try window("2026-05-14T10:00:00Z", .hourly), "2026-05-14T10:00:00Z", "2026-05-14T11:00:00Z")
            expectBounds(try window("2026-05-14T11:00:00Z", .hourly), "2026-05-14T11:00:00Z", "2026-05-14T12:00:00Z")
            expectBounds(try window("2026-06-01T00:00:00Z", .monthly), "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z")
        }

        @Test func windowKeyIsTheUTCStartInstantInISOForm() throws {
            #expect(try window("2026-05-14T10:17:23Z", .hourly).key == "2026-05-14T10:00:00Z")
            #expect(try window("2026-05-14T10:17:23Z", .weekly).key == "2026-05-11T00:00:00Z")
            #expect(try window("2026-03-08T12:00:00Z", .daily, in: "America/New_York").key == "2026-03-08T05:00:00Z")
        }
    }

    @Suite("In America/New_York, a local day is 23 hours on 2026-03-08 and 25 hours on 2026-11-01, and hours follow UTC across the change")
    struct NewYorkDST {
        @Test func springForwardDayIs23HoursLong() throws {
            let day = try window("2026-03-08T12:00:00Z", .daily, in: "America/New_York")
            expectBounds(day, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z")
            #expect(try length(day) == hours(23))
        }

        @Test func fallBackDayIs25HoursLong() throws {
            let day = try window("2026-11-01T12:00:00Z", .daily, in: "America/New_York")
            expectBounds(day, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z")
            #expect(try length(day) == hours(25))
        }

        @Test func instantsOfTheRepeatedHourLandInTwoDistinctHourlyWindows() throws {
            // 01:30 EDT and 01:30 EST on 2026-11-01: the same local label, an hour apart in UTC.
            let first = try window("2026-11-01T01:30:00-04:00", .hourly, in: "America/New_York")
            let second = try window("2026-11-01T01:30:00-05:00", .hourly, in: "America/New_York")
            expectBounds(first, "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z")
            expectBounds(second, "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z")
            #expect(first.key == "2026-11-01T05:00:00Z")
            #expect(second.key == "2026-11-01T06:00:00Z")
            #expect(first.key != second.key)
            // Both windows carry the local wall-clock label 01:00.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone("America/New_York")
            #expect(calendar.component(.hour, from: try #require(first.start)) == 1)
            #expect(calendar.component(.hour, from: try #require(second.start)) == 1)
        }

        @Test func repeatedHourInstantsBelongToTheSame25HourDay() throws {
            let first = try window("2026-11-01T01:59:59-04:00", .daily, in: "America/New_York")
            let second = try window("2026-11-01T01:00:00-05:00", .daily, in: "America/New_York")
            #expect(first == second)
            expectBounds(first, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z")
        }

        @Test func hourlyWindowsAreContiguousAcrossTheSpringGap() throws {
            // 01:59:59 EST is followed by 03:00:00 EDT; 02:00–03:00 local never happens.
            let before = try window("2026-03-08T01:59:59-05:00", .hourly, in: "America/New_York")
            let after = try window("2026-03-08T03:00:00-04:00", .hourly, in: "America/New_York")
            expectBounds(before, "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z")
            expectBounds(after, "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z")
            #expect(before.end == after.start)
        }

        @Test func everyInstantOfTheDSTDaysLiesInExactlyOneHourlyWindowOfOneHour() throws {
            for (from, to) in [("2026-03-08T04:00:00Z", "2026-03-09T05:00:00Z"), ("2026-11-01T03:00:00Z", "2026-11-02T06:00:00Z")] {
                var instant = ISO.instant(from)
                var previous: Window?
                while instant < ISO.instant(to) {
                    let current = try #require(Window.containing(instant, period: .hourly, timeZone: zone("America/New_York"), scope: Scope()))
                    let start = try #require(current.start)
                    let end = try #require(current.end)
                    #expect(start <= instant && instant < end, "\(instant) outside \(current)")
                    #expect(end.timeIntervalSince(start) == hours(1))
                    if let previous, previous != current { #expect(previous.end == current.start) }
                    previous = current
                    instant.addTimeInterval(15 * 60)
                }
            }
        }
    }

    @Suite("In Europe/Berlin, 2026-03-29 has 23 hours and 2026-10-25 has 25, and the weeks holding them 167 and 169 hours from Monday 00:00 local")
    struct BerlinDST {
        @Test func springForwardDayIs23HoursLong() throws {
            let day = try window("2026-03-29T12:00:00+02:00", .daily, in: "Europe/Berlin")
            expectBounds(day, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
            #expect(try length(day) == hours(23))
        }

        @Test func fallBackDayIs25HoursLong() throws {
            let day = try window("2026-10-25T12:00:00+01:00", .daily, in: "Europe/Berlin")
            expectBounds(day, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
            #expect(try length(day) == hours(25))
        }

        @Test func weekHoldingSpringForwardIs167HoursFromMondayMidnight() throws {
            // Monday 2026-03-23 00:00 CET to Monday 2026-03-30 00:00 CEST.
            let week = try window("2026-03-25T09:00:00+01:00", .weekly, in: "Europe/Berlin")
            expectBounds(week, "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z")
            #expect(try length(week) == hours(167))
        }

        @Test func weekHoldingFallBackIs169HoursFromMondayMidnight() throws {
            // Monday 2026-10-19 00:00 CEST to Monday 2026-10-26 00:00 CET.
            let week = try window("2026-10-25T23:30:00+01:00", .weekly, in: "Europe/Berlin")
            expectBounds(week, "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z")
            #expect(try length(week) == hours(169))
        }

        @Test func weekWithoutAChangeIs168Hours() throws {
            let week = try window("2026-05-14T12:00:00+02:00", .weekly, in: "Europe/Berlin")
            expectBounds(week, "2026-05-10T22:00:00Z", "2026-05-17T22:00:00Z")
            #expect(try length(week) == hours(168))
        }
    }

    @Suite("Weeks start on Monday 00:00 local time, not UTC")
    struct MondayStarts {
        @Test func sundayLastSecondInTokyoBelongsToTheWeekOfThePreviousMonday() throws {
            // Sunday 2026-05-17 23:59:59 JST is still Sunday 14:59:59 in UTC.
            let week = try window("2026-05-17T23:59:59+09:00", .weekly, in: "Asia/Tokyo")
            expectBounds(week, "2026-05-10T15:00:00Z", "2026-05-17T15:00:00Z")
        }

        @Test func mondayMidnightInTokyoStartsANewWeek() throws {
            // Monday 2026-05-18 00:00:00 JST is Sunday 15:00:00 in UTC.
            let week = try window("2026-05-18T00:00:00+09:00", .weekly, in: "Asia/Tokyo")
            expectBounds(week, "2026-05-17T15:00:00Z", "2026-05-24T15:00:00Z")
            #expect(week.key == "2026-05-17T15:00:00Z")
        }

        @Test func sundayLastSecondInNewYorkBelongsToTheWeekOfThePreviousMonday() throws {
            // Sunday 2026-05-17 23:59:59 EDT is already Monday 03:59:59 in UTC.
            let week = try window("2026-05-17T23:59:59-04:00", .weekly, in: "America/New_York")
            expectBounds(week, "2026-05-11T04:00:00Z", "2026-05-18T04:00:00Z")
        }

        @Test func weekSpanningNewYearKeepsItsMonday() throws {
            // Thursday 2026-12-31 and Sunday 2027-01-03 share the week of Monday 2026-12-28.
            let thursday = try window("2026-12-31T12:00:00Z", .weekly)
            let sunday = try window("2027-01-03T23:59:59Z", .weekly)
            expectBounds(thursday, "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z")
            #expect(sunday == thursday)
        }

        @Test func mondayFirstOfJanuaryStartsANewWeek() throws {
            // 2029-01-01 is a Monday; Sunday 2028-12-31 belongs to the week of 2028-12-25.
            expectBounds(try window("2028-12-31T23:59:59Z", .weekly), "2028-12-25T00:00:00Z", "2029-01-01T00:00:00Z")
            expectBounds(try window("2029-01-01T00:00:00Z", .weekly), "2029-01-01T00:00:00Z", "2029-01-08T00:00:00Z")
        }
    }

    @Suite("Month and year ends fall at local midnight; February has 29 days in leap years")
    struct MonthEnds {
        @Test func lastMillisecondOfTheYearInUTCIsInDecember() throws {
            expectBounds(try window("2026-12-31T23:59:59.999Z", .monthly), "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")
            expectBounds(try window("2026-12-31T23:59:59.999Z", .daily), "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z")
            expectBounds(try window("2027-01-01T00:00:00Z", .monthly), "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z")
        }

        @Test func sameInstantInNewYorkIsTheEveningOfDecember31() throws {
            // 2026-12-31T23:59:59.999Z is 18:59:59.999 EST on December 31.
            expectBounds(try window("2026-12-31T23:59:59.999Z", .daily, in: "America/New_York"), "2026-12-31T05:00:00Z", "2027-01-01T05:00:00Z")
            expectBounds(try window("2026-12-31T23:59:59.999Z", .monthly, in: "America/New_York"), "2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z")
            expectBounds(try window("2026-12-31T23:59:59.999Z", .hourly, in: "America/New_York"), "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z")
        }

        @Test func februaryOfALeapYearHas29Days() throws {
            let february = try window("2028-02-15T12:00:00Z", .monthly)
            expectBounds(february, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z")
            #expect(try length(february) == hours(29 * 24))
            #expect(try window("2028-02-29T23:59:59Z", .monthly) == february)
            expectBounds(try window("2028-03-01T00:00:00Z", .monthly), "2028-03-01T00:00:00Z", "2028-04-01T00:00:00Z")
        }

        @Test func februaryOfACommonYearHas28Days() throws {
            let february = try window("2026-02-15T12:00:00Z", .monthly)
            expectBounds(february, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
            #expect(try length(february) == hours(28 * 24))
        }

        @Test(arguments: [("UTC", "+00:00", "2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"),
                          ("America/New_York", "-04:00", "2026-08-01T04:00:00Z", "2026-09-01T04:00:00Z", "2026-10-01T04:00:00Z"),
                          ("Asia/Tokyo", "+09:00", "2026-07-31T15:00:00Z", "2026-08-31T15:00:00Z", "2026-09-30T15:00:00Z")])
        func lastMicrosecondOfAugustIsInAugustAndSeptemberStartsAtMidnight(tz: String, offset: String, august: String, september: String, october: String) throws {
            let lastMicrosecond = try window("2026-08-31T23:59:59.999999" + offset, .monthly, in: tz)
            let firstInstant = try window("2026-09-01T00:00:00" + offset, .monthly, in: tz)
            expectBounds(lastMicrosecond, august, september)
            expectBounds(firstInstant, september, october)
            #expect(lastMicrosecond.key != firstInstant.key)
            #expect(try window("2026-08-31T23:59:59.999999" + offset, .daily, in: tz).end == ISO.instant(september))
        }

        @Test func monthThatStartsAfterASkippedMidnightEndsAtTheNextLocalMidnight() throws {
            // America/Asuncion skipped 2023-10-01 00:00–01:00 (-04 → -03): October began at 04:00Z
            // and ends at 2023-11-01 00:00 -03, where November's window starts.
            let october = try window("2023-10-15T12:00:00-03:00", .monthly, in: "America/Asuncion")
            let november = try window("2023-11-01T00:00:00-03:00", .monthly, in: "America/Asuncion")
            expectBounds(october, "2023-10-01T04:00:00Z", "2023-11-01T03:00:00Z")
            expectBounds(november, "2023-11-01T03:00:00Z", "2023-12-01T03:00:00Z")
            #expect(october.end == november.start)
        }
    }

    @Suite("Per-session and per-task windows are keyed by the caller's id and have no start or end")
    struct IDKeyedWindows {
        @Test func perSessionWindowIsKeyedBySessionID() throws {
            let session = try window("2026-05-14T10:00:00Z", .perSession, scope: Scope(sessionID: "s-42", taskID: "t-7"))
            #expect(session.key == "session:s-42")
            #expect(session.start == nil)
            #expect(session.end == nil)
        }

        @Test func perTaskWindowIsKeyedByTaskID() throws {
            let task = try window("2026-05-14T10:00:00Z", .perTask, scope: Scope(sessionID: "s-42", taskID: "t-7"))
            #expect(task.key == "task:t-7")
            #expect(task.start == nil)
            #expect(task.end == nil)
        }

        @Test func idIsTrimmedInTheKey() throws {
            #expect(try window("2026-05-14T10:00:00Z", .perSession, scope: Scope(sessionID: "  s-42\n")).key == "session:s-42")
        }

        @Test func sameIDGivesTheSameWindowAtAnyTime() throws {
            let scope = Scope(taskID: "t-7")
            #expect(try window("2026-05-14T10:00:00Z", .perTask, scope: scope) == window("2027-02-01T00:00:00Z", .perTask, in: "Asia/Tokyo", scope: scope))
        }

        @Test(arguments: [nil, "", "   ", "\t\n"] as [String?])
        func noWindowWithoutAUsableID(id: String?) {
            let instant = ISO.instant("2026-05-14T10:00:00Z")
            #expect(Window.containing(instant, period: .perSession, timeZone: zone("UTC"), scope: Scope(sessionID: id, taskID: "t-7")) == nil)
            #expect(Window.containing(instant, period: .perTask, timeZone: zone("UTC"), scope: Scope(sessionID: "s-42", taskID: id)) == nil)
        }

        @Test func timeWindowsDoNotNeedAnID() {
            let instant = ISO.instant("2026-05-14T10:00:00Z")
            for period in [Period.hourly, .daily, .weekly, .monthly] {
                #expect(Window.containing(instant, period: period, timeZone: zone("UTC"), scope: Scope()) != nil)
            }
        }
    }

    @Suite("secondsRemaining counts whole seconds up to the window's end, at least 1, and nil without an end")
    struct SecondsRemaining {
        @Test func countsSecondsToTheEnd() throws {
            let hourly = try window("2026-05-14T10:17:23Z", .hourly)
            #expect(hourly.secondsRemaining(from: ISO.instant("2026-05-14T10:17:23Z")) == 2557)
            #expect(hourly.secondsRemaining(from: ISO.instant("2026-05-14T10:00:00Z")) == 3600)
        }

        @Test func roundsAFractionOfASecondUp() throws {
            let hourly = try window("2026-05-14T10:17:23Z", .hourly)
            #expect(hourly.secondsRemaining(from: ISO.instant("2026-05-14T10:59:58.250Z")) == 2)
            #expect(hourly.secondsRemaining(from: ISO.instant("2026-05-14T10:59:59.750Z")) == 1)
        }

        @Test func isAtLeastOneAtOrPastTheEnd() throws {
            let hourly = try window("2026-05-14T10:17:23Z", .hourly)
            #expect(hourly.secondsRemaining(from: ISO.instant("2026-05-14T11:00:00Z")) == 1)
            #expect(hourly.secondsRemaining(from: ISO.instant("2026-05-14T12:30:00Z")) == 1)
        }

        @Test func countsTheExtraHourOfA25HourDay() throws {
            let day = try window("2026-11-01T00:00:00-04:00", .daily, in: "America/New_York")
            #expect(day.secondsRemaining(from: ISO.instant("2026-11-01T04:00:00Z")) == 90_000)
        }

        @Test func isNilForIDKeyedWindows() throws {
            let session = try window("2026-05-14T10:00:00Z", .perSession, scope: Scope(sessionID: "s-42"))
            #expect(session.secondsRemaining(from: ISO.instant("2026-05-14T10:00:00Z")) == nil)
        }
    }

    @Suite("Window keys are stable: equal for two instants of one window, different for adjacent windows")
    struct Keys {
        @Test(arguments: [
            (Period.hourly, "UTC", "2026-05-14T10:00:00Z", "2026-05-14T10:59:59.999Z", "2026-05-14T11:00:00Z"),
            (Period.daily, "America/New_York", "2026-11-01T00:00:00-04:00", "2026-11-01T23:59:59-05:00", "2026-11-02T00:00:00-05:00"),
            (Period.weekly, "Asia/Tokyo", "2026-05-11T00:00:00+09:00", "2026-05-17T23:59:59+09:00", "2026-05-18T00:00:00+09:00"),
            (Period.monthly, "Europe/Berlin", "2026-03-01T00:00:00+01:00", "2026-03-31T23:59:59.999+02:00", "2026-04-01T00:00:00+02:00"),
        ])
        func keysAreEqualWithinAWindowAndDifferAcrossItsEnd(period: Period, tz: String, first: String, last: String, next: String) throws {
            let a = try window(first, period, in: tz)
            let b = try window(last, period, in: tz)
            let c = try window(next, period, in: tz)
            #expect(a.key == b.key)
            #expect(a == b)
            #expect(b.key != c.key)
            #expect(b.end == c.start)
        }

        @Test func keyDoesNotDependOnTheInstantWithinTheWindow() throws {
            let keys = try ["2026-05-14T00:00:00Z", "2026-05-14T06:00:00Z", "2026-05-14T23:59:59.999Z"].map { try window($0, .daily).key }
            #expect(keys == ["2026-05-14T00:00:00Z", "2026-05-14T00:00:00Z", "2026-05-14T00:00:00Z"])
        }
    }
}
