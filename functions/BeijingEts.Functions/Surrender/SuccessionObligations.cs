using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Surrender;

/// <summary>
/// What a unit carries for a year from confirmed mergers and splits: tonnes owed inherited from predecessors and passed to
/// successors, and with them the room left for offsets under the 5% limit (Art. 28).
/// </summary>
public sealed record SuccessionShare(long InheritedT, long PassedToSuccessorsT, long InheritedOffsetRoomT, long PassedOffsetRoomT)
{
    public static readonly SuccessionShare None = new(0, 0, 0, 0);
}

/// <summary>
/// The obligations that pass with a confirmed merger or split (Art. 8, 27). For each of the change's open years, what the
/// predecessor still owes (its confirmed emissions plus what it inherited, less what it has surrendered or is settling)
/// passes to its successors in the change's shares, by the rule that divides its holdings, so the obligations add up:
/// the predecessor keeps what it surrendered, and the successors owe the rest. It is worked out when read, from the
/// confirmations and surrenders as they stand, so an emission figure confirmed after the change still passes.
/// </summary>
public sealed class SuccessionObligations(UnitChangeStore changes, ConfirmationStore confirmations, SurrenderStore surrenders)
{
    /// <summary>Successions pass no further than this many predecessors back.</summary>
    private const int MaxChain = 10;

    public async Task<YearSuccessions> ForYearAsync(int year, CancellationToken cancellationToken) =>
        new(year, (await changes.ConfirmedSuccessionsAsync(cancellationToken)).Where(c => c.ObligationYears?.Contains(year) == true).ToList(),
            confirmations, surrenders);

    public async Task<SuccessionShare> ForUnitAsync(string uscc, int year, CancellationToken cancellationToken) =>
        await (await ForYearAsync(year, cancellationToken)).ForUnitAsync(uscc, cancellationToken);

    public sealed class YearSuccessions(int year, IReadOnlyList<UnitChange> successions, ConfirmationStore confirmations, SurrenderStore surrenders)
    {
        /// <summary>The units that inherit an obligation for the year, whether or not they are on its list.</summary>
        public IEnumerable<string> Successors => successions.SelectMany(c => c.Successors).Distinct(StringComparer.Ordinal);

        public async Task<SuccessionShare> ForUnitAsync(string uscc, CancellationToken cancellationToken)
        {
            if (successions.Count == 0) return SuccessionShare.None;
            var inherited = await InheritedAsync(uscc, 0, cancellationToken);
            var passed = successions.Any(c => c.Uscc == uscc) ? await OutstandingAsync(uscc, inherited, cancellationToken) : new Standing(0, 0);
            return new SuccessionShare(inherited.Tonnes, passed.Tonnes, inherited.OffsetRoom, passed.OffsetRoom);
        }

        /// <summary>Tonnes owed, and the offset room that comes with them.</summary>
        private readonly record struct Standing(long Tonnes, long OffsetRoom);

        private async Task<Standing> InheritedAsync(string uscc, int depth, CancellationToken cancellationToken)
        {
            if (depth >= MaxChain) return new(0, 0);
            long tonnes = 0, room = 0;
            foreach (var change in successions.Where(c => c.Successors.Contains(uscc)))
            {
                var outstanding = await OutstandingAsync(change.Uscc, await InheritedAsync(change.Uscc, depth + 1, cancellationToken), cancellationToken);
                var index = change.Successors.ToList().IndexOf(uscc);
                tonnes += UnitChange.Divide(outstanding.Tonnes, change.Weights)[index];
                room += UnitChange.Divide(outstanding.OffsetRoom, change.Weights)[index];
            }
            return new(tonnes, room);
        }

        /// <summary>What a unit owes for the year and has not surrendered or is not settling, and its offset room not yet used.</summary>
        private async Task<Standing> OutstandingAsync(string uscc, Standing inherited, CancellationToken cancellationToken)
        {
            var own = (await confirmations.FindAsync(year, uscc, cancellationToken))?.ConfirmedEmissionsT.Value ?? 0;
            var (record, _) = await surrenders.FindAsync(year, uscc, cancellationToken);
            return new(Math.Max(0, own + inherited.Tonnes - (record?.Claimed() ?? 0)),
                Math.Max(0, ComplianceView.OffsetLimit(own) + inherited.OffsetRoom - (record?.Claimed(offsets: true) ?? 0)));
        }
    }
}
