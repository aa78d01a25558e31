using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Ledger;

/// <summary>A test's view of the ledger API: submit, wait for the outcome, read holdings.</summary>
public sealed class LedgerClient(EtsAppFixture app)
{
    public HttpClient Regulator { get; } = app.Client("regulator");
    public HttpClient Exchange { get; } = app.Client("exchange");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async Task<string> NewAccountAsync() => await TestUnits.RegisterAsync(Regulator);

    public async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string type, string? from, string to, long quantity, int vintage = 2025,
        string product = "BEA", string? lot = null, string? id = null) =>
        await client.PostAsJsonAsync("/api/ledger/transactions",
            new { transactionId = id ?? Guid.NewGuid().ToString("N"), type, from, to, product, vintage, quantity, lot, reference = "test" }, Ct);

    /// <summary>Submits and waits for the outcome; returns the final status document. Issuance first gives its vintage a plan if it has none.</summary>
    public async Task<JsonElement> SettleAsync(HttpClient client, string type, string? from, string to, long quantity, int vintage = 2025,
        string product = "BEA", string? lot = null, string? id = null)
    {
        if (type == "issuance") await EnsurePlanAsync(vintage);
        if (type == "transfer") return await TransferAsync(from!, to, quantity, vintage, product, lot, id);
        var response = await SubmitAsync(client, type, from, to, quantity, vintage, product, lot, id);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Ct));
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
        // Issuance, deposits and reclaims are proposals: a second regulator approves, and approval submits the transaction.
        var submitted = answer.TryGetProperty("proposalId", out _) ? (await app.ApproveAsync(response)).GetProperty("payload") : answer;
        return await OutcomeAsync(submitted.GetProperty("transactionId").GetString()!);
    }

    /// <summary>
    /// Issuance needs the vintage's plan (Art. 12): one with a cap far above any test's, unless the vintage has a plan.
    /// </summary>
    public async Task EnsurePlanAsync(int vintage)
    {
        if ((await Regulator.GetAsync($"/api/allocation/{vintage}/plan", Ct)).IsSuccessStatusCode) return;
        var plan = new { cap = 1_000_000_000_000L, reserveRatio = 0m, preAllocationRatio = 0.7m, methods = new Dictionary<string, object>() };
        var response = await Regulator.PutAsJsonAsync($"/api/allocation/{vintage}/plan", plan, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        await app.ApproveAsync(response); // a plan (the cap) takes a second regulator (Art. 12)
    }

    /// <summary>
    /// A transfer between holding accounts, as trade settlement makes one inside the app: the API no longer takes
    /// transfers (the exchange cannot move allowances between arbitrary accounts), so it goes in through the submitter.
    /// </summary>
    public async Task<JsonElement> TransferAsync(string from, string to, long quantity, int vintage = 2025, string product = "BEA", string? lot = null,
        string? id = null, string? reference = "test")
    {
        var tx = new LedgerTransaction(id ?? Guid.NewGuid().ToString("N"), TransactionType.Transfer, from, to, product, vintage, new Tonnes(quantity), lot,
            reference, "system:test", DateTimeOffset.UtcNow);
        var (outcome, _) = await app.Service<LedgerSubmitter>().SubmitAsync(tx, Ct);
        Assert.NotEqual(SubmitOutcome.IdTaken, outcome);
        return await OutcomeAsync(tx.TransactionId);
    }

    public async Task<JsonElement> OutcomeAsync(string id)
    {
        JsonElement status = default;
        await Eventually.HoldsAsync(async () =>
        {
            status = await Regulator.GetFromJsonAsync<JsonElement>($"/api/ledger/transactions/{id}", Ct);
            return status.GetProperty("status").GetString() != "pending";
        }, $"transaction {id} is settled", TimeSpan.FromSeconds(60));
        return status;
    }

    public async Task<long> HoldingAsync(string account, string product = "BEA", int vintage = 2025)
    {
        var view = await Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{account}", Ct);
        return view.GetProperty("holdings").EnumerateArray()
            .Where(h => h.GetProperty("product").GetString() == product && h.GetProperty("vintage").GetInt32() == vintage)
            .Sum(h => h.GetProperty("quantity").GetInt64());
    }

    /// <summary>Deadlines counted from today may run into next year, whose holiday notice is not shipped: load a minimal one.</summary>
    public async Task PutCalendarForNextYearAsync()
    {
        var next = DateTimeOffset.UtcNow.Year + 1;
        if ((await Regulator.GetAsync($"/api/calendar/{next}", Ct)).IsSuccessStatusCode) return;
        var response = await Regulator.PutAsJsonAsync($"/api/calendar/{next}", new { holidays = new[] { $"{next}-01-01" }, makeupWorkdays = Array.Empty<string>() }, Ct);
        Assert.True(response.IsSuccessStatusCode);
    }

    public async Task<JsonElement> CheckAsync() => await Regulator.GetFromJsonAsync<JsonElement>("/api/ledger/check", Ct);

    public async Task AssertNoDriftAsync()
    {
        var check = await CheckAsync();
        Assert.Equal(0, check.GetProperty("inFlight").GetInt32());
        Assert.All(check.GetProperty("rows").EnumerateArray(), row => Assert.Equal(0, row.GetProperty("drift").GetInt64()));
    }
}
