using System.Collections.Concurrent;
using BeijingEts.Functions.Ledger;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Ledger;

/// <summary>Throws after the debit of every transaction whose reference says so, the first time only: a crash between the legs.</summary>
public sealed class CrashOnceAfterDebit : LedgerFaults
{
    public ConcurrentDictionary<string, int> Crashed { get; } = new();

    public override Task AfterDebitAsync(LedgerTransaction transaction)
    {
        if (transaction.Reference == "crash-after-debit" && Crashed.AddOrUpdate(transaction.TransactionId, 1, (_, n) => n + 1) == 1)
        {
            throw new InvalidOperationException("simulated crash between debit and credit");
        }
        return Task.CompletedTask;
    }
}

public sealed class ReliabilityFixture : FastQueueFixture
{
    public CrashOnceAfterDebit Faults { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<LedgerFaults>(Faults);
}

public sealed class LedgerReliabilityTests(ReliabilityFixture app) : IClassFixture<ReliabilityFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CrashBetweenDebitAndCredit_CompletesExactlyOnceOnRedelivery()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1000, vintage: 2036);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 1000, vintage: 2036);
        var id = "crash-" + Guid.NewGuid().ToString("N");

        var outcome = await _ledger.TransferAsync(a, b, 250, vintage: 2036, id: id, reference: "crash-after-debit");

        Assert.Equal("completed", outcome.GetProperty("status").GetString());
        Assert.True(app.Faults.Crashed[id] >= 2, "the first attempt crashed after its debit and a redelivery finished it");
        Assert.Equal(750, await _ledger.HoldingAsync(a, vintage: 2036));
        Assert.Equal(250, await _ledger.HoldingAsync(b, vintage: 2036));
        var journal = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{a}/journal", Ct);
        Assert.Single(journal.GetProperty("lines").EnumerateArray(), l => l.GetProperty("transactionId").GetString() == id);
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ManyClientsRacingTransfers_LeaveNoNegativeBalanceOneOutcomeEachAndNoDrift()
    {
        const int accounts = 20, clients = 32, transfers = 2000, initial = 1000, vintage = 2037;
        var holders = new List<string>();
        for (var i = 0; i < accounts; i++) holders.Add(await _ledger.NewAccountAsync());
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", accounts * initial, vintage: vintage);
        await Task.WhenAll(holders.Select(h => _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", h, initial, vintage: vintage)));

        var random = new Random(7);
        var plan = Enumerable.Range(0, transfers).Select(i =>
        {
            var from = random.Next(accounts);
            var to = (from + 1 + random.Next(accounts - 1)) % accounts;
            return (Id: $"race-{i}-{Guid.NewGuid():N}", From: holders[from], To: holders[to], Quantity: random.Next(1, 400)); // some overdraw
        }).ToList();
        var queue = app.Queue("allowance-events");
        var submitter = app.Service<LedgerSubmitter>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < plan.Count)
            {
                // Transfers are trade settlement, made inside the app (the API refuses them): submitted as the market does.
                var t = plan[i];
                var tx = new LedgerTransaction(t.Id, BeijingEts.Domain.Ledger.TransactionType.Transfer, t.From, t.To, "BEA", vintage,
                    new BeijingEts.Domain.Ledger.Tonnes(t.Quantity), null, null, "system:test", DateTimeOffset.UtcNow);
                Assert.Equal(SubmitOutcome.Recorded, (await submitter.SubmitAsync(tx, Ct)).Outcome);
                if (i % 10 == 0) Assert.Equal(SubmitOutcome.AlreadyRecorded, (await submitter.SubmitAsync(tx, Ct)).Outcome); // same id again
                if (i % 7 == 0) await queue.SendMessageAsync(JsonSerializer.Serialize(new { transactionId = t.Id }), Ct); // the function invoked twice
            }
        }));

        var outcomes = new ConcurrentDictionary<string, string>();
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var t in plan.Where(t => !outcomes.ContainsKey(t.Id)).Take(200))
            {
                var status = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/ledger/transactions/{t.Id}", Ct);
                var s = status.GetProperty("status").GetString()!;
                if (s is "completed" or "rejected") outcomes[t.Id] = s;
            }
            return outcomes.Count == plan.Count;
        }, "every transfer has an outcome", TimeSpan.FromMinutes(5));

        var expected = holders.ToDictionary(h => h, _ => (long)initial);
        foreach (var t in plan.Where(t => outcomes[t.Id] == "completed"))
        {
            expected[t.From] -= t.Quantity;
            expected[t.To] += t.Quantity;
        }
        foreach (var holder in holders)
        {
            var balance = await _ledger.HoldingAsync(holder, vintage: vintage);
            Assert.True(balance >= 0, $"{holder} is negative: {balance}");
            Assert.Equal(expected[holder], balance); // each completed transfer applied exactly once, each rejected one not at all
        }
        Assert.Contains(outcomes.Values, o => o == "rejected");
        await _ledger.AssertNoDriftAsync();
    }
}
