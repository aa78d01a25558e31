using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class BatchDebitFixture : FastQueueFixture;

/// <summary>The bulk path the regulator's allocations take out of one account: one write for many debits, each still applied once.</summary>
public sealed class BatchDebitTests(BatchDebitFixture app) : IClassFixture<BatchDebitFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<LedgerTransaction> RecordAsync(string from, string to, long quantity)
    {
        var tx = new LedgerTransaction("batch-" + Guid.NewGuid().ToString("N"), TransactionType.Transfer, from, to, Products.Bea, 2038,
            new Tonnes(quantity), null, "batch test", "test", DateTimeOffset.UtcNow);
        Assert.Null(await app.Service<TransactionStore>().TryAddAsync(tx, Ct));
        return tx;
    }

    [Fact]
    public async Task BatchDebit_SkipsDebitsAlreadyApplied_AndTheCreditsFollowExactlyOnce()
    {
        var source = await _ledger.NewAccountAsync();
        var targets = new[] { await _ledger.NewAccountAsync(), await _ledger.NewAccountAsync(), await _ledger.NewAccountAsync() };
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1000, vintage: 2038);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", source, 1000, vintage: 2038);
        var txs = new List<LedgerTransaction>();
        foreach (var target in targets) txs.Add(await RecordAsync(source, target, 100));
        // The first one was settled on its own before the batch ran (a queue delivery that got there first).
        await app.Service<LedgerSettlement>().SettleAsync(txs[0].TransactionId, Ct);

        var debited = await app.Service<LedgerStore>().DebitManyAsync(txs, Ct);
        foreach (var tx in debited) await app.Service<LedgerSettlement>().SettleAsync(tx.TransactionId, Ct, debitApplied: true);

        Assert.Equal(txs.Select(t => t.TransactionId).Order(), debited.Select(t => t.TransactionId).Order());
        Assert.Equal(700, await _ledger.HoldingAsync(source, vintage: 2038));
        foreach (var target in targets) Assert.Equal(100, await _ledger.HoldingAsync(target, vintage: 2038));
        var journal = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{source}/journal", Ct);
        foreach (var tx in txs) Assert.Single(journal.GetProperty("lines").EnumerateArray(), l => l.GetProperty("transactionId").GetString() == tx.TransactionId);
        foreach (var tx in txs) Assert.Equal("completed", (await _ledger.OutcomeAsync(tx.TransactionId)).GetProperty("status").GetString());
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task BatchDebit_TheAccountCannotPayInFull_DebitsNothing()
    {
        var source = await _ledger.NewAccountAsync();
        var target = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 150, vintage: 2038);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", source, 150, vintage: 2038);
        var txs = new[] { await RecordAsync(source, target, 100), await RecordAsync(source, target, 100) };

        var debited = await app.Service<LedgerStore>().DebitManyAsync(txs, Ct);

        Assert.Empty(debited);
        Assert.Equal(150, await _ledger.HoldingAsync(source, vintage: 2038));
        var journal = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{source}/journal", Ct);
        Assert.DoesNotContain(journal.GetProperty("lines").EnumerateArray(), l => l.GetProperty("transactionId").GetString()!.StartsWith("batch-", StringComparison.Ordinal));
    }
}
