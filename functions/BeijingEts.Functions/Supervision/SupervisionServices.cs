namespace BeijingEts.Functions.Supervision;

public static class SupervisionServices
{
    public static IServiceCollection AddSupervision(this IServiceCollection services) => services
        .AddSingleton(sp => CheckSettings.From(sp.GetRequiredService<IConfiguration>()))
        .AddSingleton<DistrictCheckStore>()
        .AddSingleton<PlanFindings>()
        .AddSingleton<DistrictCheckService>()
        .AddSingleton<CaseStore>()
        .AddSingleton<CaseService>();
}
