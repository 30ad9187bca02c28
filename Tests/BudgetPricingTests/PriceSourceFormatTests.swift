// Tests for the source format enum and its adapter factory.
import Foundation
import Testing
import BudgetPricing

@Suite("PriceSourceFormat")
struct PriceSourceFormatTests {
    @Test("raw values are the stored names")
    func rawValues() {
        #expect(PriceSourceFormat.allCases.map(\.rawValue) == ["litellm", "llm_prices", "genai_prices", "langfuse", "portkey", "openrouter"])
    }

    @Test("the factory builds the matching adapter")
    func factory() throws {
        for format in PriceSourceFormat.allCases {
            let adapter = format.adapter(evaluatedAt: Fixture.instant)
            #expect(adapter.format == format)
            #expect(adapter.sourceName == format.rawValue)
        }
        let tokencost = PriceSourceFormat.litellm.adapter(sourceName: "tokencost", evaluatedAt: Fixture.instant)
        #expect(try tokencost.parse(Fixture.data("tokencost/0.1.26/model_prices.json")).observations.first?.source == "tokencost")
    }
}
