using BeijingEts.Domain.Ledger;
using Xunit;

namespace BeijingEts.Domain.Tests;

/// <summary>Art. 13: every id the platform makes for its own ledger transactions is in the namespace callers cannot use.</summary>
public sealed class LedgerIdsTests
{
    public static TheoryData<string> EveryKindOfId => new()
    {
        LedgerIds.Surrender(2025, "91110000000000000X", "s1", 0),
        LedgerIds.PreAllocation(2025, "91110000000000000X"),
        LedgerIds.VerifiedAllocation(2025, "91110000000000000X"),
        LedgerIds.ClawBack(2025, "91110000000000000X"),
        LedgerIds.AllocationIssuance("pre-allocation", 2025, Guid.NewGuid()),
        LedgerIds.ObjectionPayout("o1"),
        LedgerIds.Succession("c1", 0),
        LedgerIds.RemovalReclaim("r1"),
        LedgerIds.OrderFreeze("o1"),
        LedgerIds.OrderRelease("o1"),
        LedgerIds.Trade("BEA-2025", "000000000001-001"),
        LedgerIds.DealFreeze("d1"),
        LedgerIds.DealRelease("d1"),
    };

    [Theory]
    [MemberData(nameof(EveryKindOfId))]
    public void EveryIdThePlatformMakes_IsReserved(string id) => Assert.True(LedgerIds.IsReserved(id), id);

    [Theory]
    [InlineData("ets:anything", true)]
    [InlineData("ETS:Anything", true)]
    [InlineData("Ets:x", true)]
    [InlineData("surrender-2025-X-s1-0", false)]
    [InlineData("my-ets:id", false)]
    [InlineData("ets-1", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsReserved_IsThePrefixInAnyCase(string? id, bool reserved) => Assert.Equal(reserved, LedgerIds.IsReserved(id));

    [Fact]
    public void TheSameWork_GetsTheSameId_AndDifferentWork_ADifferentOne()
    {
        Assert.Equal(LedgerIds.Surrender(2025, "U", "s1", 0), LedgerIds.Surrender(2025, "U", "s1", 0));
        Assert.NotEqual(LedgerIds.Surrender(2025, "U", "s1", 0), LedgerIds.Surrender(2025, "U", "s1", 1));
        Assert.NotEqual(LedgerIds.VerifiedAllocation(2025, "U"), LedgerIds.ClawBack(2025, "U"));
        Assert.NotEqual(LedgerIds.OrderFreeze("o1"), LedgerIds.OrderRelease("o1"));
    }
}
