using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Ledger;
using Microsoft.Extensions.Logging;

namespace BeijingEts.Functions.Tests.Ledger;

/// <summary>
/// Legs asked at once on one account are decided in order and written together (issue 20): the same outcomes as one
/// at a time, for a fraction of the storage requests.
/// </summary>
public sealed class GroupCommitTests(EtsAppFixture app) : IClassFixture<EtsAppFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(string From, string To)> FundedPairAsync(int vintage, long holding)
    {
        var from = await _ledger.NewAccountAsync();
        var to = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", holding, vintage: vintage);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", from, holding, vintage: vintage);
        return (from, to);
    }

    private static LedgerTransaction Transfer(string id, string from, string to, int vintage, long tonnes) =>
        new(id, TransactionType.Transfer, from, to, "BEA", vintage, new Tonnes(tonnes), null, null, "system:test", DateTimeOffset.UtcNow);

    [Fact]
    public async Task TransfersRacingOutOfOneAccount_AreDecidedInOrder_NoneOverdraws_AndEachIsAppliedOnce()
    {
        const int vintage = 2041;
        var (from, to) = await FundedPairAsync(vintage, 1000);
        var submitter = app.Service<LedgerSubmitter>();
        var settlement = app.Service<LedgerSettlement>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var recorded = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => submitter.RecordAsync(Transfer($"gc-{run}-{i}", from, to, vintage, 30), Ct, settledByCaller: true)));

        // Each settled twice at once, as two deliveries of one message would: the second finds the first's decisions.
        var settled = await Task.WhenAll(recorded.SelectMany(r => new[] { settlement.SettleAsync(r.Recorded, r.ETag, Ct), settlement.SettleAsync(r.Recorded, r.ETag, Ct) }));

        var outcomes = settled.GroupBy(t => t.TransactionId).ToDictionary(g => g.Key, g => g.Select(t => t.State).Distinct().Single());
        Assert.Equal(33, outcomes.Values.Count(s => s == TransactionState.Completed)); // 33 × 30 = 990 of the 1000
        Assert.Equal(17, outcomes.Values.Count(s => s == TransactionState.Rejected));
        Assert.All(settled.Where(t => t.State == TransactionState.Rejected), t => Assert.Contains("Insufficient holdings", t.Reason));
        Assert.Equal(10, await _ledger.HoldingAsync(from, vintage: vintage));
        Assert.Equal(990, await _ledger.HoldingAsync(to, vintage: vintage));
        var journal = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{to}/journal", Ct);
        Assert.Equal(33, journal.GetProperty("lines").GetArrayLength()); // one line per completed transfer, none twice
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task LegsOnABusyAccount_AreWrittenTogether_WithoutReadingBackWhatWasWritten()
    {
        const int vintage = 2042, legs = 300;
        var (from, to) = await FundedPairAsync(vintage, legs);
        var submitter = app.Service<LedgerSubmitter>();
        var store = app.Service<LedgerStore>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var recorded = await Task.WhenAll(Enumerable.Range(0, legs).Select(i => submitter.RecordAsync(Transfer($"gcr-{run}-{i}", from, to, vintage, 1), Ct, settledByCaller: true)));

        long requests;
        using (var count = new StorageRequestCount(app.Prefix))
        {
            var debits = await Task.WhenAll(recorded.Select(r => store.ApplyAsync(r.Recorded, Leg.Debit, null, Ct)));
            var credits = await Task.WhenAll(recorded.Select(r => store.ApplyAsync(r.Recorded, Leg.Credit, null, Ct)));
            Assert.All(debits.Concat(credits), o => Assert.True(o.Applied, o.Rejection));
            requests = count.Value;
        }

        // One at a time this is 600 writes and their reads; together, a write per group of up to 32 legs and a read of
        // the rows on first use (the app's own queue polling adds a few).
        Assert.True(requests < 120, $"{legs} debits and {legs} credits cost {requests} storage requests");
        Assert.Equal(0, await _ledger.HoldingAsync(from, vintage: vintage));
        Assert.Equal(legs, await _ledger.HoldingAsync(to, vintage: vintage));
        var settlement = app.Service<LedgerSettlement>();
        foreach (var r in recorded) Assert.Equal(TransactionState.Completed, (await settlement.SettleAsync(r.Recorded, r.ETag, Ct)).State); // legs found decided
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task CreditsToNewAccounts_CostOneWriteEach()
    {
        const int vintage = 2043, accounts = 120;
        var (from, _) = await FundedPairAsync(vintage, accounts);
        var targets = await Task.WhenAll(Enumerable.Range(0, accounts).Select(_ => _ledger.NewAccountAsync()));
        var submitter = app.Service<LedgerSubmitter>();
        var store = app.Service<LedgerStore>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var recorded = await Task.WhenAll(targets.Select((to, i) => submitter.RecordAsync(Transfer($"gcn-{run}-{i}", from, to, vintage, 1), Ct, settledByCaller: true)));
        Assert.All(await Task.WhenAll(recorded.Select(r => store.ApplyAsync(r.Recorded, Leg.Debit, null, Ct))), o => Assert.True(o.Applied, o.Rejection));

        long requests;
        using (var count = new StorageRequestCount(app.Prefix))
        {
            Assert.All(await Task.WhenAll(recorded.Select(r => store.ApplyAsync(r.Recorded, Leg.Credit, null, Ct))), o => Assert.True(o.Applied, o.Rejection));
            requests = count.Value;
        }

        // Reading each new account's state and balance rows first would cost three requests a credit; one write each leaves
        // room below two for the app's own queue polling meanwhile.
        Assert.True(requests < accounts * 2, $"{accounts} credits to new accounts cost {requests} storage requests");
        Assert.All(await Task.WhenAll(targets.Select(t => _ledger.HoldingAsync(t, vintage: vintage))), held => Assert.Equal(1, held));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ACreditToAnAccountThisInstanceHasNotSeen_StillFindsWhatItHolds_AndThatItIsClosed()
    {
        const int vintage = 2044;
        var (from, to) = await FundedPairAsync(vintage, 100);
        var closing = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 40, vintage: vintage);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", to, 40, vintage: vintage);
        var unit = app.Client("unit", closing);
        Assert.Equal(HttpStatusCode.OK, (await unit.PostAsync($"/api/accounts/{closing}/closure", null, Ct)).StatusCode);
        var submitter = app.Service<LedgerSubmitter>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var (_, toHolder, _) = await submitter.RecordAsync(Transfer($"gcs-{run}-a", from, to, vintage, 25), Ct, settledByCaller: true);
        var (_, toClosed, _) = await submitter.RecordAsync(Transfer($"gcs-{run}-b", from, closing, vintage, 5), Ct, settledByCaller: true);
        var appStore = app.Service<LedgerStore>();
        Assert.True((await appStore.ApplyAsync(toHolder, Leg.Debit, null, Ct)).Applied);
        Assert.True((await appStore.ApplyAsync(toClosed, Leg.Debit, null, Ct)).Applied);

        // Another instance, which has read none of these accounts' rows: it takes them to be new, and learns otherwise.
        var other = new LedgerStore(app.Service<StorageClients>(), app.Service<TimeProvider>(), app.Service<ILogger<LedgerStore>>());
        Assert.True((await other.ApplyAsync(toHolder, Leg.Credit, null, Ct)).Applied);
        var refused = await other.ApplyAsync(toClosed, Leg.Credit, null, Ct);
        Assert.False(refused.Applied);
        Assert.Contains("closed", refused.Rejection);
        Assert.True((await other.ApplyAsync(toClosed, Leg.Refund, null, Ct)).Applied);

        Assert.Equal(65, await _ledger.HoldingAsync(to, vintage: vintage)); // 40 allocated + 25, not 25 over nothing
        Assert.Equal(0, await _ledger.HoldingAsync(closing, vintage: vintage));
        Assert.Equal(100 - 25, await _ledger.HoldingAsync(from, vintage: vintage)); // the refused 5 t came back
        await _ledger.AssertNoDriftAsync();
    }
}
