import BudgetCore
import Foundation
import Testing

@Suite("Spend report requests: buckets, group keys, ranges, zones, and CSV")
struct SpendReportRulesTests {
    let from = InstantFormat.parse("2026-03-01T00:00:00Z")!
    let to = InstantFormat.parse("2026-04-01T00:00:00Z")!

    func refusal(_ body: () throws -> SpendReportRequest) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as ReportRequestError {
            return error.field
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func defaultsAndParsing() throws {
        let request = try SpendReportRules.request(from: from, to: to, bucket: nil, groupBy: " Model ,component,task_type", timeZone: nil, budgetID: nil)
        #expect(request.bucket == .day)
        #expect(request.groupBy == [.model, .component, .taskType])
        #expect(request.timeZone == "UTC")
        let zoned = try SpendReportRules.request(from: from, to: to, bucket: "WEEK", groupBy: "", timeZone: nil, budgetID: nil, defaultZone: "Europe/Berlin")
        #expect(zoned.bucket == .week)
        #expect(zoned.groupBy.isEmpty)
        #expect(zoned.timeZone == "Europe/Berlin")
    }

    @Test func refusalsNameTheParameter() {
        #expect(refusal { try SpendReportRules.request(from: nil, to: to, bucket: nil, groupBy: nil, timeZone: nil, budgetID: nil) } == "from")
        #expect(refusal { try SpendReportRules.request(from: from, to: nil, bucket: nil, groupBy: nil, timeZone: nil, budgetID: nil) } == "to")
        #expect(refusal { try SpendReportRules.request(from: to, to: from, bucket: nil, groupBy: nil, timeZone: nil, budgetID: nil) } == "from")
        #expect(refusal { try SpendReportRules.request(from: from, to: from, bucket: nil, groupBy: nil, timeZone: nil, budgetID: nil) } == "from")
        #expect(refusal { try SpendReportRules.request(from: from, to: to, bucket: "quarter", groupBy: nil, timeZone: nil, budgetID: nil) } == "bucket")
        #expect(refusal { try SpendReportRules.request(from: from, to: to, bucket: nil, groupBy: "component;drop table", timeZone: nil, budgetID: nil) } == "group_by")
        #expect(refusal { try SpendReportRules.request(from: from, to: to, bucket: nil, groupBy: "tier,tier", timeZone: nil, budgetID: nil) } == "group_by")
        #expect(refusal { try SpendReportRules.request(from: from, to: to, bucket: nil, groupBy: "component,", timeZone: nil, budgetID: nil) } == "group_by")
        #expect(refusal { try SpendReportRules.request(from: from, to: to, bucket: nil, groupBy: nil, timeZone: "Europe/Atlantis", budgetID: nil) } == "timezone")
        // 31 days of hours pass; 31 days and a second do not.
        #expect(refusal { try SpendReportRules.request(from: from, to: from.addingTimeInterval(31 * 86_400), bucket: "hour", groupBy: nil, timeZone: nil, budgetID: nil) } == nil)
        #expect(refusal { try SpendReportRules.request(from: from, to: from.addingTimeInterval(31 * 86_400 + 1), bucket: "hour", groupBy: nil, timeZone: nil, budgetID: nil) } == "to")
    }

    @Test func rollupsAnswerWholeHoursInWholeHourZonesOnly() {
        func request(_ from: String, _ to: String, zone: String) -> SpendReportRequest {
            SpendReportRequest(from: InstantFormat.parse(from)!, to: InstantFormat.parse(to)!, bucket: .day, groupBy: [], timeZone: zone, budgetID: nil)
        }
        #expect(request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "UTC").rollupsSuffice)
        // Berlin across its DST change (+01:00 → +02:00) is whole hours throughout.
        #expect(request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "Europe/Berlin").rollupsSuffice)
        #expect(!request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "Asia/Kolkata").rollupsSuffice)
        #expect(!request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "Australia/Adelaide").rollupsSuffice)
        #expect(!request("2026-03-01T00:30:00Z", "2026-04-01T00:00:00Z", zone: "UTC").rollupsSuffice)
        #expect(!request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00.001Z", zone: "UTC").rollupsSuffice)
        #expect(request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "UTC").dailyRollupsSuffice)
        #expect(!request("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "Europe/Berlin").dailyRollupsSuffice)
        #expect(!request("2026-03-01T01:00:00Z", "2026-04-01T00:00:00Z", zone: "UTC").dailyRollupsSuffice)
        // Lisbon is at +00:00 until its DST change on 29 March.
        #expect(request("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", zone: "Europe/Lisbon").dailyRollupsSuffice)
        #expect(!request("2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", zone: "Europe/Lisbon").dailyRollupsSuffice)
        // Lord Howe Island moves by half an hour at DST: whole hours before, not after the change.
        #expect(!SpendReportRules.hasWholeHourOffsets(TimeZone(identifier: "Australia/Lord_Howe")!,
                                                      from: InstantFormat.parse("2026-01-01T00:00:00Z")!, to: InstantFormat.parse("2026-12-01T00:00:00Z")!))
    }

    @Test func csvHasAHeaderExactMoneyAndQuotedCells() {
        let row = SpendRow(bucket: InstantFormat.parse("2026-03-10T00:00:00Z")!, bucketLocal: "2026-03-10T00:00",
                           groups: ["ergon, the \"builder\"", nil], inputTokens: 12, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0,
                           reasoningTokens: 1, costUSD: Decimal(exactly: "0.00017999999999999998")!, count: 2, unpricedCount: 1)
        let text = SpendCSV.render([row], groupBy: [.component, .model])
        let header = "bucket,bucket_local,component,model,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,reasoning_tokens,cost_usd,count,unpriced_count"
        let line = #"2026-03-10T00:00:00.000Z,2026-03-10T00:00,"ergon, the ""builder""",,12,3,0,0,1,0.00017999999999999998,2,1"#
        #expect(text == header + "\r\n" + line + "\r\n")
    }

    @Test func csvGroupValuesThatASpreadsheetWouldRunAsFormulasStartWithAnApostrophe() {
        func line(_ component: String) -> String {
            let row = SpendRow(bucket: InstantFormat.parse("2026-03-10T00:00:00Z")!, bucketLocal: "2026-03-10T00:00",
                               groups: [component], inputTokens: 1, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0,
                               reasoningTokens: 0, costUSD: Decimal(exactly: "-0.5")!, count: 1, unpricedCount: 0)
            return String(SpendCSV.render([row], groupBy: [.component]).split(separator: "\r\n")[1])
        }
        #expect(line("=HYPERLINK(\"http://x\",\"y\")") == #"2026-03-10T00:00:00.000Z,2026-03-10T00:00,"'=HYPERLINK(""http://x"",""y"")",1,0,0,0,0,-0.5,1,0"#)
        #expect(line("+1") == "2026-03-10T00:00:00.000Z,2026-03-10T00:00,'+1,1,0,0,0,0,-0.5,1,0")
        #expect(line("-2+3") == "2026-03-10T00:00:00.000Z,2026-03-10T00:00,'-2+3,1,0,0,0,0,-0.5,1,0")
        #expect(line("@SUM(A1)") == "2026-03-10T00:00:00.000Z,2026-03-10T00:00,'@SUM(A1),1,0,0,0,0,-0.5,1,0")
        #expect(line("\tergon") == "2026-03-10T00:00:00.000Z,2026-03-10T00:00,'\tergon,1,0,0,0,0,-0.5,1,0")
        // Ordinary names, and a formula character that is not first, are left alone.
        #expect(line("ergon") == "2026-03-10T00:00:00.000Z,2026-03-10T00:00,ergon,1,0,0,0,0,-0.5,1,0")
        #expect(line("a=b") == "2026-03-10T00:00:00.000Z,2026-03-10T00:00,a=b,1,0,0,0,0,-0.5,1,0")
    }
}
