import BudgetImport
import Testing

@Suite struct ImportErrorTests {
    @Test func describesItselfWithItsMessage() {
        let error = ImportError(.notRhetor, "x.db has no table usage")
        #expect("\(error)" == "x.db has no table usage")
        #expect(error.code == .notRhetor)
    }
}
