using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Lists;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class UnitChangeTests
{
    private static readonly DateTimeOffset At = new(2026, 6, 10, 2, 0, 0, TimeSpan.Zero);

    private static UnitChange Split(IReadOnlyList<int>? shares = null) => UnitChange.Succession("c1", "P", "朝阳区", UnitChangeKinds.Split,
        new DateOnly(2026, 6, 1), new DateOnly(2026, 6, 29), new DateOnly(2026, 6, 10), "旧单位", ["S1", "S2"], shares, "unit:P", At);

    private static UnitChange AwaitingRegulator(IReadOnlyList<int>? shares = null) => Split(shares).ConfirmByDistrict(true, "district:朝阳区", At).Change;

    [Fact]
    public void Registered_AwaitsTheDistrict_AndMovesNothing()
    {
        var change = Split();

        Assert.Equal(UnitChangeStates.PendingDistrict, change.State);
        Assert.Null(change.HoldingTransfers);
        Assert.Null(change.ObligationYears);
    }

    [Fact]
    public void AnotherDistrict_CannotConfirm()
    {
        var decision = Split().ConfirmByDistrict(false, "district:海淀区", At);

        Assert.Equal(ChangeOutcome.NotYours, decision.Outcome);
        Assert.Contains("朝阳区", decision.Reason);
    }

    [Fact]
    public void TheRegulator_CannotConfirmBeforeTheDistrict()
    {
        var decision = Split().Confirm("regulator", At, [2025, 2026], []);

        Assert.Equal(ChangeOutcome.WrongState, decision.Outcome);
        Assert.Contains("awaits confirmation by", decision.Reason);
    }

    [Fact]
    public void TheDistrict_CannotConfirmTwice()
    {
        Assert.Equal(ChangeOutcome.WrongState, AwaitingRegulator().ConfirmByDistrict(true, "district:朝阳区", At).Outcome);
    }

    [Fact]
    public void Confirmed_MovesEveryTonneInTheShares_AndAgainIsAlreadyConfirmed()
    {
        var holdings = new[] { new HeldQuantity(Products.Bea, 2026, null, new Tonnes(1001)), new HeldQuantity("BCER", 2024, "L1", new Tonnes(10)) };

        var decision = AwaitingRegulator([3, 1]).Confirm("regulator", At, [2025, 2026], holdings);

        Assert.Equal(ChangeOutcome.Decided, decision.Outcome);
        var confirmed = decision.Change;
        Assert.Equal(UnitChangeStates.Confirmed, confirmed.State);
        Assert.Equal([2025, 2026], confirmed.ObligationYears);
        Assert.Equal([751L, 250L], confirmed.HoldingTransfers!.Where(t => t.Product == Products.Bea).Select(t => t.Quantity.Value));
        Assert.Equal([8L, 2L], confirmed.HoldingTransfers!.Where(t => t.Product == "BCER").Select(t => t.Quantity.Value));
        Assert.Equal(["S1", "S2", "S1", "S2"], confirmed.HoldingTransfers!.Select(t => t.To));
        Assert.Equal(4, confirmed.HoldingTransfers!.Select(t => t.TransactionId).Distinct().Count());
        Assert.Equal(ChangeOutcome.AlreadyConfirmed, confirmed.Confirm("regulator", At, [], []).Outcome);
    }

    [Fact]
    public void Rejection_IsTheDistrictsWhileItAwaitsTheDistrict_ThenTheRegulators()
    {
        Assert.Equal(ChangeOutcome.NotYours, Split().Reject(byTheUnitsDistrict: false, byTheRegulator: true, "regulator", "no").Outcome);
        Assert.Equal(ChangeOutcome.NotYours, AwaitingRegulator().Reject(byTheUnitsDistrict: true, byTheRegulator: false, "district", "no").Outcome);

        var rejected = AwaitingRegulator().Reject(byTheUnitsDistrict: false, byTheRegulator: true, "regulator", "营业执照不符");

        Assert.Equal(UnitChangeStates.Rejected, rejected.Change.State);
        Assert.Equal("营业执照不符", rejected.Change.RejectionReason);
        Assert.Equal(ChangeOutcome.WrongState, rejected.Change.Confirm("regulator", At, [], []).Outcome);
        Assert.Equal(ChangeOutcome.WrongState, rejected.Change.Reject(false, true, "regulator", "again").Outcome);
    }

    [Fact]
    public void OpenYears_AreTheYearBeforeAndTheYearOfRegistration_UnlessTheirSurrenderClosed()
    {
        var due = new Dictionary<int, DateTimeOffset> { [2025] = new(2026, 5, 31, 16, 0, 0, TimeSpan.Zero) };

        Assert.Equal([2026], UnitChange.OpenYears(new DateOnly(2026, 6, 1), due, At));
        Assert.Equal([2025, 2026], UnitChange.OpenYears(new DateOnly(2026, 6, 1), due, new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal([2025, 2026], UnitChange.OpenYears(new DateOnly(2026, 6, 1), new Dictionary<int, DateTimeOffset>(), At));
    }

    [Theory]
    [InlineData(1001L, new[] { 1, 1 }, new[] { 501L, 500L })]
    [InlineData(10L, new[] { 1, 1, 1 }, new[] { 4L, 3L, 3L })]
    [InlineData(7L, new[] { 1 }, new[] { 7L })]
    [InlineData(0L, new[] { 2, 5 }, new[] { 0L, 0L })]
    [InlineData(100L, new[] { 70, 30 }, new[] { 70L, 30L })]
    public void Divide_RoundsDown_AndGivesTheRestToTheFirst(long quantity, int[] weights, long[] expected)
    {
        Assert.Equal(expected, UnitChange.Divide(quantity, weights));
    }

    [Fact]
    public void Divide_AlwaysConservesTheTotal()
    {
        var random = new Random(15);
        for (var i = 0; i < 2000; i++)
        {
            var quantity = random.NextInt64(0, long.MaxValue);
            var weights = Enumerable.Range(0, random.Next(1, 20)).Select(_ => random.Next(1, 1_000_001)).ToArray();

            var parts = UnitChange.Divide(quantity, weights);

            Assert.Equal(quantity, parts.Aggregate(0L, (sum, part) => checked(sum + part)));
            Assert.All(parts, part => Assert.True(part >= 0));
        }
    }
}
