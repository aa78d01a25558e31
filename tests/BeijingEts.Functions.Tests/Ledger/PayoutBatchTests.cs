using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class PayoutBatchFixture : FastQueueFixture;

/// <summary>
/// An allocation run's payments share a partition (issue 20): recorded, and their outcomes written, 100 to a request,
/// each still paid exactly once whatever was recorded or settled before.
/// </summary>
public sealed class PayoutBatchTests(PayoutBatchFixture app) : IClassFixture<PayoutBatchFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What the account holds of the year's BEA (the test's units are accounts only, not registered units the API would show).</summary>
    private async Task<long> HeldAsync(string account, int year) => (await app.Service<LedgerStore>().BalanceAsync(account, Products.Bea, year, null, Ct)).Value;

    private static string NewUnit() => "PB" + Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();

    private static LedgerTransaction Payment(int year, string uscc, long tonnes) => new(LedgerIds.PreAllocation(year, uscc), TransactionType.Allocation,
        RegulatorAccounts.Issuance, uscc, Products.Bea, year, new Tonnes(tonnes), null, "payout batch test", "system:test", DateTimeOffset.UtcNow);

    [Fact]
    public async Task APayoutOf150Units_CostsUnderTwoRequestsAUnit_AndPaysEachOnce()
    {
        const int year = 2047;
        await _ledger.EnsurePlanAsync(year);
        var units = Enumerable.Range(0, 150).Select(i => (Uscc: NewUnit(), Tonnes: 100L + i)).ToList();
        var payout = app.Service<AllocationPayout>();

        PayoutResult paid;
        long requests;
        using (var count = new StorageRequestCount(app.Prefix))
        {
            paid = await payout.PayAsync(year, units.Select(u => (LedgerIds.PreAllocation(year, u.Uscc), u.Uscc, new Tonnes(u.Tonnes))), "pre-allocation", "test", Actor.System("test"), Ct);
            requests = count.Value;
        }

        Assert.Null(paid.Failure);
        // Recorded and settled one by one, each payment cost its record, its credit and its status (3 × 150 = 450, and
        // more); now the records and the statuses go 100 to a request, so a payment costs about its credit.
        Assert.True(requests < 2 * units.Count, $"150 payments cost {requests} storage requests");
        Assert.Equal(units.Sum(u => u.Tonnes), paid.Issued.Value);
        foreach (var (uscc, tonnes) in units.Take(10)) Assert.Equal(tonnes, await HeldAsync(uscc, year));
        var statuses = await Task.WhenAll(units.Select(async u => (await app.Service<TransactionStore>().FindAsync(LedgerIds.PreAllocation(year, u.Uscc), Ct))!.Value.Transaction.State));
        Assert.All(statuses, s => Assert.Equal(TransactionState.Completed, s));

        // A second run finds every payment made and pays nobody twice.
        var again = await payout.PayAsync(year, units.Select(u => (LedgerIds.PreAllocation(year, u.Uscc), u.Uscc, new Tonnes(u.Tonnes))), "pre-allocation", "test", Actor.System("test"), Ct);
        Assert.Null(again.Failure);
        Assert.Equal(0, again.Issued.Value);
        foreach (var (uscc, tonnes) in units.Take(10)) Assert.Equal(tonnes, await HeldAsync(uscc, year));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task RecordingABatch_WithSomeIdsTakenMeanwhile_RecordsTheRest_AndLeavesTheTakenOnesAsTheyWere()
    {
        const int year = 2048;
        var store = app.Service<TransactionStore>();
        var payments = Enumerable.Range(0, 60).Select(i => Payment(year, NewUnit(), 10 + i)).ToList();
        var other = payments[7] with { Quantity = new Tonnes(999_999) }; // a different transaction under one of the ids
        Assert.NotNull(await store.AddAsync(other, Ct));
        Assert.NotNull(await store.AddAsync(payments[30], Ct));

        var added = await store.AddManyAsync(payments, Ct);

        Assert.Equal(58, added.Count);
        Assert.DoesNotContain(payments[7].TransactionId, added.Keys);
        Assert.DoesNotContain(payments[30].TransactionId, added.Keys);
        Assert.Equal(999_999, (await store.FindAsync(payments[7].TransactionId, Ct))!.Value.Transaction.Quantity.Value);
        foreach (var p in payments.Where((_, i) => i is not 7))
        {
            var found = (await store.FindAsync(p.TransactionId, Ct))!.Value;
            Assert.Equal(p.ContentHash(), found.Transaction.ContentHash());
        }
        var recorded = await store.FindByPrefixAsync(LedgerIds.Run(payments[0].TransactionId)!, Ct);
        Assert.Equal(60, recorded.Count);
    }

    [Fact]
    public async Task SettlingABatch_SomeSettledOrHalfSettledBefore_GivesEachItsStatus_AndMovesEachOnce()
    {
        const int year = 2049;
        await _ledger.EnsurePlanAsync(year);
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 10_000, vintage: year);
        var store = app.Service<TransactionStore>();
        var settlement = app.Service<LedgerSettlement>();
        var payments = Enumerable.Range(0, 40).Select(i => Payment(year, NewUnit(), 5)).ToList();
        var added = await store.AddManyAsync(payments, Ct);
        Assert.Equal(40, added.Count);

        // One settled meanwhile by its own delivery (its row changed: the batch of statuses fails and goes one by one);
        // three whose credit an earlier attempt applied before it stopped, their statuses still pending.
        await settlement.SettleAsync(payments[0].TransactionId, Ct);
        foreach (var p in payments.Skip(1).Take(3))
        {
            Assert.True((await app.Service<LedgerStore>().ApplyAsync(p, Leg.Debit, null, Ct)).Applied);
            Assert.True((await app.Service<LedgerStore>().ApplyAsync(p, Leg.Credit, null, Ct)).Applied);
        }

        var settled = await settlement.SettleManyAsync([.. payments.Select(p => (p, added[p.TransactionId]))], Ct);

        Assert.All(settled, t => Assert.Equal(TransactionState.Completed, t.State));
        foreach (var p in payments)
        {
            Assert.Equal(TransactionState.Completed, (await store.FindAsync(p.TransactionId, Ct))!.Value.Transaction.State);
            Assert.Equal(5, await HeldAsync(p.To, year));
        }
        Assert.Equal(10_000 - 40 * 5, await _ledger.HoldingAsync(RegulatorAccounts.Issuance, vintage: year));
        await _ledger.AssertNoDriftAsync();
    }
}
