// The product's version, reported by `budget version` and `GET /health`.
public enum BudgetVersion {
    public static let current = "0.1.0"
}
