// One source's value for one price field, with the weight it carried.
import Foundation

public struct SourceValue: Sendable, Hashable {
    public var source: String
    public var value: Decimal
    public var weight: Decimal

    public init(source: String, value: Decimal, weight: Decimal) {
        self.source = source
        self.value = value
        self.weight = weight
    }
}
