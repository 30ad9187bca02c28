import BudgetStore
import Testing

@Suite("SQL scripts are cut into statements at top-level semicolons only")
struct SQLScriptTests {
    @Test func plainStatements() {
        #expect(SQLScript.statements(in: "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n") == [
            "CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)",
        ])
    }

    @Test func semicolonsInsideQuotesAndCommentsDoNotSplit() {
        let sql = """
            -- a comment; with a semicolon
            INSERT INTO t VALUES ('a;b', 'it''s; fine', "odd;name");
            /* block; comment /* nested; */ still */ SELECT 1;
            """
        let statements = SQLScript.statements(in: sql)
        #expect(statements.count == 2)
        #expect(statements[0].hasSuffix("INSERT INTO t VALUES ('a;b', 'it''s; fine', \"odd;name\")"))
        #expect(statements[1].hasSuffix("SELECT 1"))
    }

    @Test func dollarQuotedBodiesStayWhole() {
        let sql = """
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM 1; RETURN 2;
            END $$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT ';'::text $body$;
            """
        let statements = SQLScript.statements(in: sql)
        #expect(statements.count == 2)
        #expect(statements[0].contains("PERFORM 1; RETURN 2;"))
        #expect(statements[1].contains("$body$ SELECT ';'::text $body$"))
    }

    @Test func commentOnlyTailIsDropped() {
        #expect(SQLScript.statements(in: "SELECT 1;\n-- trailing note\n") == ["SELECT 1"])
    }
}
