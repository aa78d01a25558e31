namespace BeijingEts.Domain.Ledger;

public static class Products
{
    /// <summary>Beijing emission allowance (北京市碳排放配额), by vintage year.</summary>
    public const string Bea = "BEA";
    /// <summary>National certified emission reductions.</summary>
    public const string Ccer = "CCER";
    /// <summary>Beijing certified emission reductions.</summary>
    public const string Bcer = "BCER";

    public static readonly IReadOnlyList<string> All = [Bea, Ccer, Bcer];

    public static bool IsKnown(string? product) => product is Bea or Ccer or Bcer;

    /// <summary>Offsets come in lots, each with its project and serial reference; allowances do not.</summary>
    public static bool HasLots(string product) => product is Ccer or Bcer;
}

/// <summary>The regulator's own accounts, addressed by these names.</summary>
public static class RegulatorAccounts
{
    public const string Issuance = "issuance";
    /// <summary>The adjustment reserve (调节量, Art. 12).</summary>
    public const string Reserve = "reserve";
    public const string Surrender = "surrender";
    public const string Cancellation = "cancellation";

    public static readonly IReadOnlyList<string> All = [Issuance, Reserve, Surrender, Cancellation];

    public static bool Is(string? account) => account is Issuance or Reserve or Surrender or Cancellation;

    /// <summary>Holdings in these accounts have left circulation; everything else is "held".</summary>
    public static bool IsRetirement(string account) => account is Surrender or Cancellation;
}

/// <summary>
/// Each holder's frozen account: holdings set aside for its sell orders (Art. 19). Held there, they cannot be
/// transferred, surrendered or sold twice, and they still count as the holder's (and as "held" for the invariant).
/// </summary>
public static class FrozenAccounts
{
    public const string Prefix = "frozen-";

    public static string For(string holder) => Prefix + holder;

    public static bool Is(string? account) => account?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    public static string HolderOf(string account) => Is(account) ? account[Prefix.Length..] : throw new ArgumentException($"{account} is not a frozen account.", nameof(account));
}

public enum TransactionType
{
    Issuance,
    Allocation,
    Reclaim,
    Transfer,
    Deposit,
    Cancellation,
    /// <summary>Holdings passing to a successor on a merger or split (Art. 8); made by the platform, not sent.</summary>
    Succession,
    /// <summary>Allowances or offsets given up for a compliance year (Art. 27-28); made through the surrender endpoint, which applies its limits.</summary>
    Surrender,
    /// <summary>Holdings set aside for a sell order, into the holder's frozen account; made by the exchange's order entry.</summary>
    Freeze,
    /// <summary>Frozen holdings an order no longer needs (cancelled, expired, suspended), back to the holder.</summary>
    Release,
}

/// <summary>
/// What each transaction type may move, from where to where. Checked when a transaction is submitted, so a
/// transaction that reaches the ledger is well formed and only holdings, suspension or the cap can stop it.
/// </summary>
public static class TransactionRules
{
    /// <summary>Types that create holdings rather than move them: no source account.</summary>
    public static bool Creates(TransactionType type) => type is TransactionType.Issuance or TransactionType.Deposit;

    public static IReadOnlyList<string> Validate(TransactionType type, string? from, string? to, string product, int vintage, Tonnes quantity, string? lot)
    {
        var problems = new List<string>();
        if (!Products.IsKnown(product)) problems.Add($"product '{product}' is unknown; the products are {string.Join(", ", Products.All)}.");
        if (VintageProblem(vintage) is { } vintageProblem) problems.Add(vintageProblem);
        if (quantity.Value <= 0) problems.Add($"quantity is {quantity.Value}; it must be a positive whole number of tonnes.");
        if (Products.IsKnown(product))
        {
            if (Products.HasLots(product) && string.IsNullOrWhiteSpace(lot)) problems.Add($"{product} moves by lot: give lot, the project and serial reference of the lot.");
            if (!Products.HasLots(product) && lot is not null) problems.Add("lot is only for CCER and BCER.");
        }
        if (Creates(type) && from is not null) problems.Add($"{Name(type)} creates holdings: leave from out.");
        if (!Creates(type) && string.IsNullOrWhiteSpace(from)) problems.Add($"{Name(type)} needs from, the account the holdings leave.");
        if (string.IsNullOrWhiteSpace(to)) problems.Add("to is required.");
        if (from is not null && from == to) problems.Add("from and to are the same account.");
        switch (type)
        {
            case TransactionType.Issuance:
                if (product != Products.Bea) problems.Add("issuance creates BEA; CCER and BCER come in by deposit.");
                if (to is not null && to != RegulatorAccounts.Issuance) problems.Add($"issuance goes to the '{RegulatorAccounts.Issuance}' account.");
                break;
            case TransactionType.Deposit:
                if (product == Products.Bea) problems.Add("deposit is for CCER and BCER; BEA is created by issuance.");
                if (RegulatorAccounts.Is(to)) problems.Add("deposit goes to a holding account.");
                break;
            case TransactionType.Allocation:
                if (product != Products.Bea) problems.Add("allocation hands out BEA.");
                if (from is not null && from is not (RegulatorAccounts.Issuance or RegulatorAccounts.Reserve)) problems.Add("allocation comes from the issuance or reserve account.");
                // The adjustment reserve (Art. 12) is funded by allocation from the issuance account.
                if (RegulatorAccounts.Is(to) && !(from == RegulatorAccounts.Issuance && to == RegulatorAccounts.Reserve))
                {
                    problems.Add("allocation goes to a holding account (or from issuance into the reserve).");
                }
                break;
            case TransactionType.Reclaim:
                if (product != Products.Bea) problems.Add("reclaim takes back BEA.");
                if (RegulatorAccounts.Is(from) || FrozenAccounts.Is(from)) problems.Add("reclaim takes from a holding account.");
                if (to is not null && to is not (RegulatorAccounts.Issuance or RegulatorAccounts.Reserve)) problems.Add("reclaim returns to the issuance or reserve account.");
                break;
            case TransactionType.Transfer:
                // A buy-back (Art. 20) is the one trade whose buyer is the reserve: from a seller's frozen holdings into it.
                if (RegulatorAccounts.Is(from) || (RegulatorAccounts.Is(to) && !(to == RegulatorAccounts.Reserve && FrozenAccounts.Is(from))))
                {
                    problems.Add("transfer settles trades between holding accounts (or a buy-back's, from a seller's frozen holdings into the reserve).");
                }
                if (FrozenAccounts.Is(to)) problems.Add("transfer goes to a holding account, not a frozen one.");
                break;
            case TransactionType.Freeze:
                if (RegulatorAccounts.Is(from) || FrozenAccounts.Is(from)) problems.Add("freeze sets aside a holder's own holdings.");
                if (from is not null && to != FrozenAccounts.For(from)) problems.Add($"freeze goes to the holder's frozen account, {FrozenAccounts.Prefix}<holder>.");
                break;
            case TransactionType.Release:
                if (!FrozenAccounts.Is(from)) problems.Add("release comes from a frozen account.");
                else if (to != FrozenAccounts.HolderOf(from!)) problems.Add("release goes back to the frozen account's holder.");
                break;
            case TransactionType.Succession:
                if (RegulatorAccounts.Is(from) || RegulatorAccounts.Is(to) || FrozenAccounts.Is(from) || FrozenAccounts.Is(to)) problems.Add("succession moves holdings between holding accounts.");
                break;
            case TransactionType.Surrender:
                if (RegulatorAccounts.Is(from) || FrozenAccounts.Is(from)) problems.Add("surrender is by a holder, from its own holding account.");
                if (to is not null && to != RegulatorAccounts.Surrender) problems.Add($"surrender goes to the '{RegulatorAccounts.Surrender}' account.");
                break;
            case TransactionType.Cancellation:
                if (RegulatorAccounts.Is(from) || FrozenAccounts.Is(from)) problems.Add("cancellation is by a holder, from its own holding account.");
                if (to is not null && to != RegulatorAccounts.Cancellation) problems.Add($"cancellation goes to the '{RegulatorAccounts.Cancellation}' account.");
                break;
        }
        return problems;
    }

    public static string Name(TransactionType type) => type.ToString().ToLowerInvariant();

    /// <summary>Null when the vintage is one the platform deals in (2013 to 2100), else what is wrong with it.</summary>
    public static string? VintageProblem(int vintage) => vintage is < 2013 or > 2100 ? $"vintage {vintage} is out of range (2013 to 2100)." : null;
}
