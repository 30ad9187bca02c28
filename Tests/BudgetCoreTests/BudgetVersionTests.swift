import BudgetCore
import Testing

@Suite("Version")
struct BudgetVersionTests {
    @Test func isSemanticVersion() {
        let parts = BudgetVersion.current.split(separator: ".")
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { Int($0) != nil })
    }
}
