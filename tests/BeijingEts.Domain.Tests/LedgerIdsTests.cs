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

    /// <summary>An allocation run's transactions are kept together under their run and year; every other id alone.</summary>
    [Fact]
    public void Run_IsTheAllocationRunAndYear_OfItsTransactions_AndOfNoOtherId()
    {
        Assert.Equal("ets:pre-allocation-2025-", LedgerIds.Run(LedgerIds.PreAllocation(2025, "91110000000000000X")));
        Assert.Equal("ets:pre-allocation-2025-", LedgerIds.Run(LedgerIds.AllocationIssuance("pre-allocation", 2025, Guid.NewGuid())));
        Assert.Equal("ets:verified-allocation-2026-", LedgerIds.Run(LedgerIds.VerifiedAllocation(2026, "91110000000000000X")));
        Assert.Equal("ets:verified-clawback-2026-", LedgerIds.Run(LedgerIds.ClawBack(2026, "91110000000000000X")));
        Assert.NotEqual(LedgerIds.Run(LedgerIds.PreAllocation(2025, "U")), LedgerIds.Run(LedgerIds.PreAllocation(2026, "U")));
        foreach (var other in new[]
        {
            LedgerIds.Surrender(2025, "U", "s1", 0), LedgerIds.ObjectionPayout("o1"), LedgerIds.Trade("BEA-2025", "1"), LedgerIds.OrderFreeze("o1"),
            "pre-allocation-2025-U", "ets:pre-allocation-2025-", "ets:pre-allocation-20x5-U", "ets:pre-allocation-2025U", "ETS:pre-allocation-2025-U", "ets:pre-allocations-2025-U", "",
        })
        {
            Assert.Null(LedgerIds.Run(other));
        }
    }

    /// <summary>A trade's transactions are kept together under their book, and an order's freeze and release under theirs; no other id is.</summary>
    [Fact]
    public void TradeBook_IsTheBookOfATradesTransaction_AndOfNoOtherId()
    {
        Assert.Equal("ets:trade-BEA-2025-", LedgerIds.TradeBook(LedgerIds.Trade("BEA-2025", "000000000001-001")));
        Assert.Equal("ets:trade-BCER-2031-", LedgerIds.TradeBook(LedgerIds.Trade("BCER-2031", "deal-d1")));
        Assert.NotEqual(LedgerIds.TradeBook(LedgerIds.Trade("BEA-2025", "1")), LedgerIds.TradeBook(LedgerIds.Trade("BEA-2026", "1")));
        foreach (var other in new[]
        {
            LedgerIds.PreAllocation(2025, "U"), LedgerIds.OrderFreeze("o1"), LedgerIds.DealFreeze("d1"), "trade-BEA-2025-1", "ets:trade-BEA-2025-", "ets:trade-bea-2025-1",
            "ets:trade-BEA-20x5-1", "ets:trade-BEA-2025x1", "ets:trade--2025-1", "ETS:trade-BEA-2025-1", "",
        })
        {
            Assert.Null(LedgerIds.TradeBook(other));
        }
        Assert.Equal("ets:order-BEA-2025-", LedgerIds.OrderBook(LedgerIds.OrderFreeze("BEA-2025-0123456789abcdef")));
        Assert.Equal("ets:order-BEA-2025-", LedgerIds.OrderBook(LedgerIds.OrderRelease("BEA-2025-0123456789abcdef")));
        Assert.Null(LedgerIds.OrderBook(LedgerIds.OrderFreeze("o1")));
        Assert.Null(LedgerIds.OrderBook(LedgerIds.Trade("BEA-2025", "1")));
    }
}
