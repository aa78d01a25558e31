using BeijingEts.Domain.Ledger;

namespace BeijingEts.Domain.Lists;

public static class UnitChangeKinds
{
    public const string Rename = "rename";
    public const string Merger = "merger";
    public const string Split = "split";
}

public static class UnitChangeStates
{
    /// <summary>A rename: it moves nothing, so it takes effect when the unit registers it.</summary>
    public const string Registered = "registered";
    public const string PendingDistrict = "pending-district-confirmation";
    public const string PendingRegulator = "pending-regulator-confirmation";
    public const string Confirmed = "confirmed";
    public const string Rejected = "rejected";

    public static bool IsOpen(string state) => state is PendingDistrict or PendingRegulator;
}

/// <summary>One ledger movement a confirmed merger or split makes: part of one holding, to one successor.</summary>
public sealed record HoldingTransfer(string TransactionId, string To, string Product, int Vintage, string? Lot, Tonnes Quantity);

/// <summary>A holding of the predecessor as the ledger shows it when the regulator confirms.</summary>
public sealed record HeldQuantity(string Product, int Vintage, string? Lot, Tonnes Quantity);

public enum ChangeOutcome
{
    /// <summary>The transition is made; save <see cref="ChangeDecision.Change"/>.</summary>
    Decided,
    /// <summary>Confirmed before: nothing to save, but what follows a confirmation may be finished again (it is idempotent).</summary>
    AlreadyConfirmed,
    /// <summary>This caller does not decide the change now.</summary>
    NotYours,
    /// <summary>The change is not in a state that allows this.</summary>
    WrongState,
}

public sealed record ChangeDecision(ChangeOutcome Outcome, UnitChange Change, string? Reason = null);

/// <summary>
/// A change registered with market regulation that the unit registers here within 20 working days (Art. 8). A merger
/// or split hands the unit's holdings and obligations to its successors, so, like a removal (Art. 9), it takes effect
/// only when the unit's district bureau and then the regulator confirm it; either may reject it with a reason.
/// </summary>
public sealed record UnitChange(
    string Id,
    string Uscc,
    string District,
    string Kind,
    DateOnly RegisteredOn,
    DateOnly Deadline,
    bool Late,
    DateOnly SubmittedOn,
    string? OldName,
    string? NewName,
    IReadOnlyList<string> Successors,
    IReadOnlyList<int>? Shares = null,
    string State = UnitChangeStates.Registered,
    string? RequestedBy = null,
    DateTimeOffset? RequestedAt = null,
    string? DistrictConfirmedBy = null,
    DateTimeOffset? DistrictConfirmedAt = null,
    string? ConfirmedBy = null,
    DateTimeOffset? ConfirmedAt = null,
    string? RejectedBy = null,
    string? RejectionReason = null,
    IReadOnlyList<int>? ObligationYears = null,
    IReadOnlyList<HoldingTransfer>? HoldingTransfers = null,
    DateTimeOffset? EffectTakenAt = null)
{
    public bool IsSuccession => Kind is UnitChangeKinds.Merger or UnitChangeKinds.Split;

    /// <summary>The successors' weights: as registered, or equal.</summary>
    public IReadOnlyList<int> Weights => Shares ?? Successors.Select(_ => 1).ToList();

    /// <summary>A merger or split as the unit registers it: it waits for its district bureau.</summary>
    public static UnitChange Succession(string id, string uscc, string district, string kind, DateOnly registeredOn, DateOnly deadline, DateOnly today,
        string name, IReadOnlyList<string> successors, IReadOnlyList<int>? shares, string requestedBy, DateTimeOffset at) =>
        new(id, uscc, district, kind, registeredOn, deadline, today > deadline, today, name, null, successors, shares,
            UnitChangeStates.PendingDistrict, requestedBy, at);

    /// <summary>The first confirmation, by the unit's own district bureau only.</summary>
    public ChangeDecision ConfirmByDistrict(bool byTheUnitsDistrict, string actor, DateTimeOffset at)
    {
        if (State != UnitChangeStates.PendingDistrict) return new(ChangeOutcome.WrongState, this, $"Change {Id} is {State}; the district confirms it only while it awaits district confirmation.");
        if (!byTheUnitsDistrict) return new(ChangeOutcome.NotYours, this, $"Change {Id} is for a unit in {District}; only {Districts.Bureau(District)} confirms it.");
        return new(ChangeOutcome.Decided, this with { State = UnitChangeStates.PendingRegulator, DistrictConfirmedBy = actor, DistrictConfirmedAt = at });
    }

    /// <summary>
    /// The regulator's confirmation, after the district's: the change takes effect with the obligations of
    /// <paramref name="obligationYears"/> and the holdings of <paramref name="holdings"/> passing to the successors.
    /// </summary>
    public ChangeDecision Confirm(string actor, DateTimeOffset at, IReadOnlyList<int> obligationYears, IReadOnlyList<HeldQuantity> holdings)
    {
        if (State == UnitChangeStates.Confirmed) return new(ChangeOutcome.AlreadyConfirmed, this);
        if (State != UnitChangeStates.PendingRegulator)
        {
            return new(ChangeOutcome.WrongState, this, State == UnitChangeStates.PendingDistrict
                ? $"Change {Id} awaits confirmation by {Districts.Bureau(District)} first (Art. 8-9)."
                : $"Change {Id} is {State}; only a merger or split awaiting the regulator is confirmed.");
        }
        return new(ChangeOutcome.Decided, this with
        {
            State = UnitChangeStates.Confirmed, ConfirmedBy = actor, ConfirmedAt = at, ObligationYears = obligationYears, HoldingTransfers = Transfers(holdings),
        });
    }

    /// <summary>A rejection with a reason: by the district while the change awaits it, by the regulator while it awaits the regulator.</summary>
    public ChangeDecision Reject(bool byTheUnitsDistrict, bool byTheRegulator, string actor, string reason)
    {
        if (!UnitChangeStates.IsOpen(State)) return new(ChangeOutcome.WrongState, this, $"Change {Id} is {State}; only an open merger or split is rejected.");
        var decides = State == UnitChangeStates.PendingDistrict ? byTheUnitsDistrict : byTheRegulator;
        if (!decides) return new(ChangeOutcome.NotYours, this, $"Change {Id} is {State}; only {(State == UnitChangeStates.PendingDistrict ? Districts.Bureau(District) : "the regulator")} decides it now.");
        return new(ChangeOutcome.Decided, this with { State = UnitChangeStates.Rejected, RejectedBy = actor, RejectionReason = reason });
    }

    /// <summary>
    /// The obligations that pass (Art. 27): those of the year before the registration and of its year, unless that
    /// year's surrender window closed before the confirmation; a shortfall assessed then stays with the unit (Art. 29).
    /// </summary>
    public static IReadOnlyList<int> OpenYears(DateOnly registeredOn, IReadOnlyDictionary<int, DateTimeOffset> surrenderDue, DateTimeOffset now) =>
        new[] { registeredOn.Year - 1, registeredOn.Year }.Where(y => !surrenderDue.TryGetValue(y, out var due) || now <= due).ToList();

    /// <summary>The ledger id of the n-th movement of this change: fixed by the change, so it moves once however often it is sent.</summary>
    public string SuccessionTransactionId(int n) => Ledger.LedgerIds.Succession(Id, n);

    /// <summary>Every held tonne to the successors in the registered shares (see <see cref="Divide"/>).</summary>
    private List<HoldingTransfer> Transfers(IReadOnlyList<HeldQuantity> holdings)
    {
        var transfers = new List<HoldingTransfer>();
        foreach (var holding in holdings.Where(h => h.Quantity.Value > 0))
        {
            var parts = Divide(holding.Quantity.Value, Weights);
            for (var i = 0; i < parts.Length; i++)
            {
                if (parts[i] == 0) continue;
                transfers.Add(new HoldingTransfer(SuccessionTransactionId(transfers.Count), Successors[i], holding.Product, holding.Vintage, holding.Lot, new Tonnes(parts[i])));
            }
        }
        return transfers;
    }

    /// <summary>
    /// Divides whole tonnes by weights: each part rounded down, the tonnes that do not divide going to the first
    /// successor, so the parts always add up to <paramref name="quantity"/>. Holdings and obligations follow the same rule.
    /// </summary>
    public static long[] Divide(long quantity, IReadOnlyList<int> weights)
    {
        var total = weights.Sum(w => (long)w);
        var parts = weights.Select(w => (long)((Int128)quantity * w / total)).ToArray();
        parts[0] += quantity - parts.Sum();
        return parts;
    }
}
