namespace BeijingEts.Domain.Ledger;

/// <summary>
/// Every id the platform gives its own ledger transactions, all under <see cref="Prefix"/>, a namespace no API caller may
/// use (Art. 13): a caller who could take such an id first could make the platform read its transaction as the
/// platform's own (a surrender of 1 t recorded as one of 100,000 t, a claw-back shrunk, an allocation blocked).
/// </summary>
public static class LedgerIds
{
    public const string Prefix = "ets:";

    /// <summary>Whether the id is in the platform's namespace, whatever its case.</summary>
    public static bool IsReserved(string? id) => id is not null && id.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>One line of a unit's surrender for its compliance year (Art. 27-28).</summary>
    public static string Surrender(int year, string uscc, string submissionId, int item) => $"{Prefix}surrender-{year}-{uscc}-{submissionId}-{item}";

    /// <summary>A unit's pre-allocation (预发, Art. 14).</summary>
    public static string PreAllocation(int year, string uscc) => $"{Prefix}pre-allocation-{year}-{uscc}";

    /// <summary>A unit's top-up at verified allocation (核定, Art. 14).</summary>
    public static string VerifiedAllocation(int year, string uscc) => $"{Prefix}verified-allocation-{year}-{uscc}";

    /// <summary>What is taken back from a unit at verified allocation (Art. 14).</summary>
    public static string ClawBack(int year, string uscc) => $"{Prefix}verified-clawback-{year}-{uscc}";

    /// <summary>The runs whose transactions are made by the thousand at once, one per unit, under {Prefix}{run}-{year}-.</summary>
    private static readonly string[] Runs = ["pre-allocation", "verified-allocation", "verified-clawback"];

    /// <summary>
    /// The run and year an allocation run's transaction belongs to ("ets:pre-allocation-2026-"), or null for any other
    /// id: the transactions of one run and year are recorded together, so they are kept together.
    /// </summary>
    public static string? Run(string id)
    {
        foreach (var run in Runs)
        {
            var head = Prefix.Length + run.Length + 1;
            if (id.StartsWith(Prefix, StringComparison.Ordinal) && string.CompareOrdinal(id, Prefix.Length, run, 0, run.Length) == 0 && id.Length > head && id[head - 1] == '-')
            {
                return ThroughYear(id, head);
            }
        }
        return null;
    }

    /// <summary>The id up to "{yyyy}-" at <paramref name="at"/>, when that is there and followed by more; else null.</summary>
    private static string? ThroughYear(string id, int at) =>
        id.Length > at + 5 && id.AsSpan(at, 4).IndexOfAnyExceptInRange('0', '9') < 0 && id[at + 4] == '-' ? id[..(at + 5)] : null;

    /// <summary>Allowances issued for an allocation run (<paramref name="run"/>: pre-allocation, verified-allocation); a new id each run.</summary>
    public static string AllocationIssuance(string run, int year, Guid attempt) => $"{Prefix}{run}-{year}-issuance-{attempt:N}";

    /// <summary>An adjustment paid from the reserve on an objection (Art. 15).</summary>
    public static string ObjectionPayout(string objectionId) => $"{Prefix}objection-{objectionId}";

    /// <summary>An allocation adjustment's payment from the reserve, or its reclaim into it (Art. 11-12): one per application.</summary>
    public static string AdjustmentPayout(string applicationId) => $"{Prefix}adjustment-{applicationId}";

    /// <summary>One holding moved to a successor of a merger or split (Art. 8).</summary>
    public static string Succession(string changeId, int holding) => $"{Prefix}succession-{changeId}-{holding}";

    /// <summary>The reclaim of a removed unit's allowances (Art. 9).</summary>
    public static string RemovalReclaim(string removalId) => $"{Prefix}removal-reclaim-{removalId}";

    /// <summary>A sell order's holdings set aside while it is on the book, and given back when it ends.</summary>
    public static string OrderFreeze(string orderId) => $"{Prefix}order-{orderId}-freeze";

    public static string OrderRelease(string orderId) => $"{Prefix}order-{orderId}-release";

    /// <summary>The tonnes of a trade (public bidding, negotiated, auction, buy-back) moving to its buyer.</summary>
    public static string Trade(string book, string tradeId) => $"{Prefix}trade-{book}-{tradeId}";

    /// <summary>
    /// The book a trade's transaction belongs to ("ets:trade-BEA-2026-"), or null for any other id: a matching round's
    /// trades are recorded and settled together, so a book's are kept together.
    /// </summary>
    public static string? TradeBook(string id) => BookOf(id, Prefix + "trade-");

    /// <summary>
    /// The book of a market order's holdings freeze or release ("ets:order-BEA-2026-"), or null for any other id: the
    /// sell orders placed at once in a book are recorded and settled together, so a book's are kept together.
    /// </summary>
    public static string? OrderBook(string id) => BookOf(id, Prefix + "order-");

    /// <summary>"{kind}{PRODUCT}-{yyyy}-" when the id is that followed by more, else null.</summary>
    private static string? BookOf(string id, string kind)
    {
        if (!id.StartsWith(kind, StringComparison.Ordinal)) return null;
        var dash = id.IndexOf('-', kind.Length);
        if (dash <= kind.Length || id.AsSpan(kind.Length, dash - kind.Length).IndexOfAnyExceptInRange('A', 'Z') >= 0) return null;
        return ThroughYear(id, dash + 1);
    }

    /// <summary>A negotiated deal's holdings set aside until the buyer confirms, and given back if it does not.</summary>
    public static string DealFreeze(string dealId) => $"{Prefix}deal-{dealId}-freeze";

    public static string DealRelease(string dealId) => $"{Prefix}deal-{dealId}-release";
}
